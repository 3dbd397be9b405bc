package sdk_test

import (
	"strings"
	"testing"

	"github.com/modelhost/modelhost/sdk"
)

func validInfo() sdk.Info {
	return sdk.Info{
		QualifiedName: "iris_model",
		DisplayName:   "Iris classifier",
		Description:   "Classifies iris flowers.",
		Version:       "1.0.0",
	}
}

func TestInfoValidateQualifiedName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"iris_model", true},
		{"a", true},
		{"0", true},
		{"9lives", true},
		{"penguin-size", true},
		{"model.v2", true},
		{"a_b.c-d_9", true},
		{"a.", true},
		{"a-", true},
		{strings.Repeat("a", sdk.MaxQualifiedNameLength), true},

		{"", false},
		{strings.Repeat("a", sdk.MaxQualifiedNameLength+1), false},
		{"Iris", false},
		{"irisModel", false},
		{".hidden", false},
		{"-flag", false},
		{"_private", false},
		{"a/b", false},
		{"../etc", false},
		{"iris model", false},
		{" iris", false},
		{"iris\n", false},
		{"pingüino", false},
		{"ﬁsh", false},
		{"model:v2", false},
		{"a?b", false},
		{"a%20b", false},
	}
	for _, tt := range tests {
		info := validInfo()
		info.QualifiedName = tt.name
		err := info.Validate()
		if got := err == nil; got != tt.valid {
			t.Errorf("Validate() with qualified name %q: got valid %t (error %v), want valid %t", tt.name, got, err, tt.valid)
		}
		if err != nil && !strings.Contains(err.Error(), "qualified name") {
			t.Errorf("Validate() with qualified name %q: got error %q, want it to mention the qualified name", tt.name, err)
		}
	}
}

func TestInfoValidateVersion(t *testing.T) {
	tests := []struct {
		version string
		valid   bool
	}{
		{"1.0.0", true},
		{"0.0.0", true},
		{"0.1.0", true},
		{"10.20.30", true},
		{"1.0.0-rc.1+build.5", true},
		{"1.0.0-alpha", true},
		{"1.0.0-alpha.beta.1", true},
		{"1.0.0-0.3.7", true},
		{"1.0.0-x-y-z.--", true},
		{"1.0.0+20130313144700", true},
		{"1.0.0+exp.sha.5114f85", true},

		{"", false},
		{"v1.0.0", false},
		{"1.0", false},
		{"1", false},
		{"01.0.0", false},
		{"1.01.0", false},
		{"1.0.01", false},
		{"1.0.0-01", false},
		{"1.0.0-", false},
		{"1.0.0+", false},
		{"1.0.0-rc..1", false},
		{"1.0.0.0", false},
		{" 1.0.0", false},
		{"1.0.0 ", false},
		{"latest", false},
	}
	for _, tt := range tests {
		info := validInfo()
		info.Version = tt.version
		err := info.Validate()
		if got := err == nil; got != tt.valid {
			t.Errorf("Validate() with version %q: got valid %t (error %v), want valid %t", tt.version, got, err, tt.valid)
		}
		if err != nil && !strings.Contains(err.Error(), "version") {
			t.Errorf("Validate() with version %q: got error %q, want it to mention the version", tt.version, err)
		}
	}
}

func TestInfoValidate(t *testing.T) {
	tests := []struct {
		name string
		info sdk.Info
		// wantErrs are substrings of the error; none means valid.
		wantErrs []string
	}{
		{name: "valid", info: validInfo()},
		{
			name: "description may be empty",
			info: sdk.Info{QualifiedName: "m", DisplayName: "M", Version: "1.0.0"},
		},
		{
			name:     "empty display name",
			info:     sdk.Info{QualifiedName: "m", Version: "1.0.0"},
			wantErrs: []string{"display name is empty"},
		},
		{
			name:     "empty qualified name",
			info:     sdk.Info{DisplayName: "M", Version: "1.0.0"},
			wantErrs: []string{"qualified name is empty"},
		},
		{
			name:     "too long",
			info:     sdk.Info{QualifiedName: strings.Repeat("m", 129), DisplayName: "M", Version: "1.0.0"},
			wantErrs: []string{"qualified name is 129 bytes long, the limit is 128"},
		},
		{
			name:     "empty version",
			info:     sdk.Info{QualifiedName: "m", DisplayName: "M"},
			wantErrs: []string{"version is empty"},
		},
		{
			name:     "every problem is reported",
			info:     sdk.Info{QualifiedName: "Bad/Name", Version: "v1"},
			wantErrs: []string{"invalid model metadata", `qualified name "Bad/Name" does not match`, "display name is empty", `version "v1" is not a semantic version`},
		},
		{
			name:     "zero value",
			info:     sdk.Info{},
			wantErrs: []string{"qualified name is empty", "display name is empty", "version is empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.info.Validate()
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErrs)
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}
