// Package buildinfo reports how the running modelhost binary was built:
// module version, VCS revision and time, Go version and platform, as the Go
// toolchain stamps them (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info describes the build of the running binary. Fields the toolchain did
// not record are empty (or false).
type Info struct {
	// Version is the main module's version: a tag such as "v1.2.0" or,
	// built in a git checkout, a pseudo-version derived from the commit,
	// such as "v0.0.0-20261125215946-812876259bbb+dirty"; "(devel)" when
	// the toolchain recorded none (with -buildvcs=false, for example).
	Version string `json:"version"`
	// Revision is the VCS revision the binary was built from, in full
	// (vcs.revision; for git, 40 hexadecimal digits). Empty when unknown,
	// for example in test binaries or with -buildvcs=false.
	Revision string `json:"revision"`
	// Time is the commit time of Revision in RFC 3339 form, such as
	// "2026-11-25T21:00:00Z" (vcs.time). Empty when unknown.
	Time string `json:"time"`
	// Modified reports whether the working tree had uncommitted changes
	// when the binary was built (vcs.modified).
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain that built the binary, such as
	// "go1.26.8".
	GoVersion string `json:"go_version"`
	// Platform is the binary's operating system and architecture, such
	// as "linux/amd64".
	Platform string `json:"platform"`
}

// DevelVersion is Info.Version when the toolchain recorded no version.
const DevelVersion = "(devel)"

// ShortRevisionLength is how many leading characters of Revision
// ShortRevision keeps, as "git log --oneline" shows them.
const ShortRevisionLength = 7

// Read returns the build information of the running binary.
func Read() Info {
	bi, _ := debug.ReadBuildInfo() // nil when not available
	return fromBuildInfo(bi)
}

// fromBuildInfo extracts Info from bi, which may be nil.
func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{
		Version:   DevelVersion,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi == nil {
		return info
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// ShortRevision returns the first ShortRevisionLength characters of
// Revision, or Revision itself if it is shorter.
func (i Info) ShortRevision() string {
	if len(i.Revision) > ShortRevisionLength {
		return i.Revision[:ShortRevisionLength]
	}
	return i.Revision
}

// String formats i on one line, omitting what is unknown:
// "(devel) rev 1a2b3c4 2026-11-25T21:00:00Z go1.26.8 linux/amd64", with
// "modified" after the time when the working tree was.
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" {
		s += " rev " + i.ShortRevision()
	}
	if i.Time != "" {
		s += " " + i.Time
	}
	if i.Modified {
		s += " modified"
	}
	return s + " " + i.GoVersion + " " + i.Platform
}
