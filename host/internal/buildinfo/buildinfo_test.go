package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromBuildInfo(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tt := range []struct {
		name string
		bi   *debug.BuildInfo
		want Info
		line string
	}{
		{
			name: "no build information",
			bi:   nil,
			want: Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: platform},
			line: "(devel) " + runtime.Version() + " " + platform,
		},
		{
			name: "development build from a clean tree",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: "github.com/modelhost/modelhost", Version: "(devel)"},
				Settings: []debug.BuildSetting{
					{Key: "GOOS", Value: "linux"},
					{Key: "vcs", Value: "git"},
					{Key: "vcs.revision", Value: "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"},
					{Key: "vcs.time", Value: "2026-11-25T21:00:00Z"},
					{Key: "vcs.modified", Value: "false"},
				},
			},
			want: Info{
				Version: "(devel)", Revision: "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5", Time: "2026-11-25T21:00:00Z",
				GoVersion: "go1.26.8", Platform: platform,
			},
			line: "(devel) rev 1a2b3c4 2026-11-25T21:00:00Z go1.26.8 " + platform,
		},
		{
			name: "tagged build from a modified tree",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Version: "v1.2.0+dirty"},
				Settings: []debug.BuildSetting{
					{Key: "vcs.revision", Value: "abc"},
					{Key: "vcs.modified", Value: "true"},
				},
			},
			want: Info{Version: "v1.2.0+dirty", Revision: "abc", Modified: true, GoVersion: "go1.26.8", Platform: platform},
			line: "v1.2.0+dirty rev abc modified go1.26.8 " + platform,
		},
		{
			name: "empty main version",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.8"},
			want: Info{Version: "(devel)", GoVersion: "go1.26.8", Platform: platform},
			line: "(devel) go1.26.8 " + platform,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuildInfo(tt.bi)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fromBuildInfo (-want +got):\n%s", diff)
			}
			if s := got.String(); s != tt.line {
				t.Errorf("String() = %q, want %q", s, tt.line)
			}
		})
	}
}

func TestRead(t *testing.T) {
	info := Read()
	if info.Version == "" || info.GoVersion == "" || info.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("Read() = %+v, want a version, a Go version and this platform", info)
	}
}
