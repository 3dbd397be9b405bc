package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/modelhost/modelhost/sdk"
)

// decodeReload decodes the arguments of the plugins block that govern
// reloading and versions: watch, watch_debounce and pinned_versions.
func decodeReload(raw *rawPlugins, p *Plugins) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if b, ok := decodeValue[bool](raw.Watch, &diags); ok {
		p.Watch = b
	}
	debounce := p.WatchDebounce
	n := len(diags)
	decodeDuration(raw.WatchDebounce, &debounce, &diags)
	switch {
	case len(diags) > n:
	case debounce < MinWatchDebounce || debounce > MaxWatchDebounce:
		diags = append(diags, attrError(raw.WatchDebounce, "Invalid watch_debounce",
			fmt.Sprintf("watch_debounce must be a duration from %s to %s, got %s.", MinWatchDebounce, MaxWatchDebounce, debounce)))
	default:
		p.WatchDebounce = debounce
	}
	diags = append(diags, decodePinnedVersions(raw.PinnedVersions, p)...)
	return diags
}

// decodePinnedVersions sets p.PinnedVersions from the pinned_versions
// argument, a map from qualified names to semantic versions. Diagnostics
// point at the offending key or value.
func decodePinnedVersions(attr *hcl.Attribute, p *Plugins) hcl.Diagnostics {
	var diags hcl.Diagnostics
	pins, ok := decodeValue[map[string]string](attr, &diags)
	if !ok {
		return diags
	}
	itemError := func(r hcl.Range, summary, detail string) *hcl.Diagnostic {
		return &hcl.Diagnostic{
			Severity:   hcl.DiagError,
			Summary:    summary,
			Detail:     detail,
			Subject:    r.Ptr(),
			Context:    attr.Range.Ptr(),
			Expression: attr.Expr,
		}
	}
	for _, name := range sortedKeys(pins) {
		if !sdk.ValidQualifiedName(name) {
			diags = append(diags, itemError(objectKeyRange(attr.Expr, name), "Invalid pinned model name",
				fmt.Sprintf("The keys of pinned_versions are the qualified names of models, as in /api/models/{name}: "+
					"1 to %d lower-case letters, digits and _.- starting with a letter or digit; got %q.", sdk.MaxQualifiedNameLength, name)))
		}
		if v := pins[name]; !sdk.ValidVersion(v) {
			diags = append(diags, itemError(objectValueRange(attr.Expr, name), "Invalid pinned version",
				fmt.Sprintf("The version pinned for %q must be a semantic version such as \"1.0.0\" or \"2.1.0-rc.1\", "+
					"without a leading \"v\"; got %q.", name, v)))
		}
	}
	if !diags.HasErrors() && len(pins) > 0 {
		p.PinnedVersions = pins
	}
	return diags
}

// RestartRequired returns the names of the settings that differ between
// old and updated and that a running host cannot apply without a restart,
// sorted. They are the arguments of the server block, named like
// "server.address", except server.ready_with_failed_models; "auth" and
// "admin", whose tokens are compared as sets whichever arguments name them;
// "cors.allowed_origins", compared as a set; and the arguments of the log
// block, named like "log.level". Settings of the plugins block and model
// blocks are never listed: a reload applies them. The result is nil when
// a reload can apply every difference. Neither config may be nil.
func RestartRequired(old, updated *Config) []string {
	var names []string
	for _, s := range restartSettings() {
		if s.differs(old, updated) {
			names = append(names, s.name)
		}
	}
	slices.Sort(names)
	return names
}

// restartSetting is a setting that a running host cannot change.
type restartSetting struct {
	name    string
	differs func(a, b *Config) bool
}

// restartSettings lists the settings RestartRequired compares.
func restartSettings() []restartSetting {
	return []restartSetting{
		{"server.address", differs(func(c *Config) string { return c.Server.Address })},
		{"server.shutdown_timeout", differs(func(c *Config) time.Duration { return c.Server.ShutdownTimeout })},
		{"server.max_body_bytes", differs(func(c *Config) int64 { return c.Server.MaxBodyBytes })},
		{"server.read_timeout", differs(func(c *Config) time.Duration { return c.Server.ReadTimeout })},
		{"server.write_timeout", differs(func(c *Config) time.Duration { return c.Server.WriteTimeout })},
		{"server.idle_timeout", differs(func(c *Config) time.Duration { return c.Server.IdleTimeout })},
		{"server.read_header_timeout", differs(func(c *Config) time.Duration { return c.Server.ReadHeaderTimeout })},
		{"server.max_header_bytes", differs(func(c *Config) int { return c.Server.MaxHeaderBytes })},
		{"auth", func(a, b *Config) bool { return !sameSet(a.Auth.TokenDigests, b.Auth.TokenDigests) }},
		{"admin", func(a, b *Config) bool { return !sameSet(a.Admin.TokenDigests, b.Admin.TokenDigests) }},
		{"cors.allowed_origins", func(a, b *Config) bool { return !sameSet(a.CORS.AllowedOrigins, b.CORS.AllowedOrigins) }},
		{"log.level", differs(func(c *Config) string { return c.Log.Level })},
		{"log.format", differs(func(c *Config) string { return c.Log.Format })},
		{"log.access", differs(func(c *Config) bool { return c.Log.Access })},
	}
}

// differs returns a function reporting whether two configurations differ
// in the value get returns.
func differs[T comparable](get func(*Config) T) func(a, b *Config) bool {
	return func(a, b *Config) bool { return get(a) != get(b) }
}

// sameSet reports whether a and b hold the same elements, in any order
// and counting repeats once.
func sameSet[T comparable](a, b []T) bool {
	in := func(xs []T) map[T]bool {
		m := make(map[T]bool, len(xs))
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	if len(ma) != len(mb) {
		return false
	}
	for x := range ma {
		if !mb[x] {
			return false
		}
	}
	return true
}
