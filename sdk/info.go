package sdk

import (
	"errors"
	"fmt"
	"regexp"
)

// qualifiedNamePattern is the shape of a qualified name: URL-safe, lower case,
// starting with a letter or digit.
var qualifiedNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// semverPattern is the Semantic Versioning 2.0.0 grammar (https://semver.org),
// without a leading "v".
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// MaxQualifiedNameLength bounds a qualified name so that it fits comfortably
// in URLs, metric labels and file names.
const MaxQualifiedNameLength = 128

// Info is the metadata a model publishes about itself.
type Info struct {
	// QualifiedName identifies the model in URLs and logs, for example
	// "iris_model". It must match ^[a-z0-9][a-z0-9_.-]*$ and be at most
	// MaxQualifiedNameLength bytes long.
	QualifiedName string `json:"qualified_name"`
	// DisplayName is a short human-readable name, for example "Iris classifier".
	DisplayName string `json:"display_name"`
	// Description says what the model does, in a sentence or a paragraph.
	Description string `json:"description"`
	// Version is the model's semantic version without a leading "v", for
	// example "1.2.0".
	Version string `json:"version"`
}

// ValidQualifiedName reports whether s is a valid [Info.QualifiedName]: one
// to MaxQualifiedNameLength bytes matching ^[a-z0-9][a-z0-9_.-]*$.
func ValidQualifiedName(s string) bool {
	return s != "" && len(s) <= MaxQualifiedNameLength && qualifiedNamePattern.MatchString(s)
}

// ValidVersion reports whether s is a valid [Info.Version]: a Semantic
// Versioning 2.0.0 version (https://semver.org) without a leading "v", such
// as "1.2.0" or "1.0.0-rc.1+build.5".
func ValidVersion(s string) bool { return semverPattern.MatchString(s) }

// Validate reports every way in which i is not acceptable metadata, joined
// into one error, or nil.
func (i Info) Validate() error {
	var errs []error
	if !ValidQualifiedName(i.QualifiedName) {
		switch {
		case i.QualifiedName == "":
			errs = append(errs, errors.New("qualified name is empty"))
		case len(i.QualifiedName) > MaxQualifiedNameLength:
			errs = append(errs, fmt.Errorf("qualified name is %d bytes long, the limit is %d", len(i.QualifiedName), MaxQualifiedNameLength))
		default:
			errs = append(errs, fmt.Errorf("qualified name %q does not match %s", i.QualifiedName, qualifiedNamePattern))
		}
	}
	if i.DisplayName == "" {
		errs = append(errs, errors.New("display name is empty"))
	}
	if !ValidVersion(i.Version) {
		if i.Version == "" {
			errs = append(errs, errors.New("version is empty"))
		} else {
			errs = append(errs, fmt.Errorf("version %q is not a semantic version such as 1.0.0", i.Version))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid model metadata: %w", errors.Join(errs...))
}
