package config

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// decodeSupervision decodes the arguments of the plugins block that govern
// trust and supervision: require_checksums, max_response_bytes,
// max_batch_size and the
// restart policy.
func decodeSupervision(raw *rawPlugins, p *Plugins) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if b, ok := decodeValue[bool](raw.RequireChecksums, &diags); ok {
		p.RequireChecksums = b
	}
	if n, ok := decodeValue[int64](raw.MaxResponseBytes, &diags); ok {
		if n <= 0 || n > MaxResponseBytesLimit {
			diags = append(diags, attrError(raw.MaxResponseBytes, "Invalid max_response_bytes",
				fmt.Sprintf("max_response_bytes must be a number of bytes from 1 to %d (256 MiB, the largest message a plugin sends), got %d.", MaxResponseBytesLimit, n)))
		} else {
			p.MaxResponseBytes = n
		}
	}
	if n, ok := decodeValue[int](raw.MaxBatchSize, &diags); ok {
		if n <= 0 || n > MaxBatchSizeLimit {
			diags = append(diags, attrError(raw.MaxBatchSize, "Invalid max_batch_size",
				fmt.Sprintf("max_batch_size must be a whole number of inputs from 1 to %d, got %d.", MaxBatchSizeLimit, n)))
		} else {
			p.MaxBatchSize = n
		}
	}
	if n, ok := decodeValue[int](raw.RestartMax, &diags); ok {
		if n < 0 {
			diags = append(diags, attrError(raw.RestartMax, "Invalid restart_max",
				fmt.Sprintf("restart_max must be a whole number of restarts, 0 or more, got %d.", n)))
		} else {
			p.RestartMax = n
		}
	}
	decodeDuration(raw.RestartWindow, &p.RestartWindow, &diags)
	decodeDuration(raw.RestartBackoffInitial, &p.RestartBackoffInitial, &diags)
	decodeDuration(raw.RestartBackoffMax, &p.RestartBackoffMax, &diags)
	decodeDuration(raw.DrainTimeout, &p.DrainTimeout, &diags)
	if p.RestartBackoffMax < p.RestartBackoffInitial {
		attr := raw.RestartBackoffMax
		if attr == nil {
			attr = raw.RestartBackoffInitial
		}
		diags = append(diags, attrError(attr, "Invalid restart backoff",
			fmt.Sprintf("restart_backoff_max (%s) must not be less than restart_backoff_initial (%s).", p.RestartBackoffMax, p.RestartBackoffInitial)))
	}
	return diags
}

// decodeModelSHA256 sets m.SHA256 from the sha256 argument of a model
// block, and requires it when requireChecksums is set.
func decodeModelSHA256(raw *rawModel, requireChecksums bool, m *Model) hcl.Diagnostics {
	var diags hcl.Diagnostics
	s, ok := decodeString(raw.SHA256, &diags)
	switch {
	case ok:
		if err := checkSHA256(s); err != nil {
			diags = append(diags, attrError(raw.SHA256, "Invalid sha256", err.Error()))
		} else {
			m.SHA256 = strings.ToLower(s)
		}
	case len(diags) == 0 && requireChecksums:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing sha256",
			Detail: fmt.Sprintf("plugins.require_checksums is true, so model %q must pin its binary with sha256 = \"...\"; "+
				"\"modelhost checksum --hcl %s\" prints the line.", raw.Name, m.Command),
			Subject: raw.DefRange.Ptr(),
		})
	}
	return diags
}

// checkSHA256 reports whether s is a SHA-256 digest in hexadecimal.
func checkSHA256(s string) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return fmt.Errorf("sha256 must be a SHA-256 digest: 64 hexadecimal digits, as sha256sum or \"modelhost checksum\" print it; got %q", s)
	}
	return nil
}
