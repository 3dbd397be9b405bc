package sdk_test

import (
	"strings"
	"testing"

	"github.com/modelhost/modelhost/sdk"
)

// TestValidQualifiedNameAndVersion checks the exported predicates that the
// host uses to validate its configuration. Info.Validate is built on them,
// so TestInfoValidateQualifiedName and TestInfoValidateVersion cover the
// rest of the grammar.
func TestValidQualifiedNameAndVersion(t *testing.T) {
	for _, tt := range []struct {
		name, version string
		valid         bool
	}{
		{"iris_model", "1.0.0", true},
		{"0", "0.0.0", true},
		{"model.v2-b_c", "1.0.0-rc.1+build.5", true},
		{strings.Repeat("a", sdk.MaxQualifiedNameLength), "10.20.30", true},

		{"", "", false},
		{strings.Repeat("a", sdk.MaxQualifiedNameLength+1), "v1.0.0", false},
		{"Iris", "1.0", false},
		{"_iris", "01.0.0", false},
		{"iris/model", "1.0.0-", false},
		{"iris model", " 1.0.0", false},
	} {
		info := sdk.Info{QualifiedName: tt.name, DisplayName: "D", Version: tt.version}
		if got := sdk.ValidQualifiedName(tt.name); got != tt.valid {
			t.Errorf("ValidQualifiedName(%q) = %t, want %t", tt.name, got, tt.valid)
		}
		if got := sdk.ValidVersion(tt.version); got != tt.valid {
			t.Errorf("ValidVersion(%q) = %t, want %t", tt.version, got, tt.valid)
		}
		// Info.Validate agrees: there is one definition of each.
		if got := info.Validate() == nil; got != tt.valid {
			t.Errorf("Info{%q, %q}.Validate() valid = %t, want %t", tt.name, tt.version, got, tt.valid)
		}
	}
}
