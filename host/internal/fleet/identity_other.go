//go:build !linux

package fleet

import (
	"fmt"
	"os"
)

// fileIdentity describes the file at path by size, modification time and
// mode, so that replacing it changes the description.
func fileIdentity(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	return fmt.Sprintf("%d %s %s", fi.Size(), fi.ModTime().UTC().Format("2006-01-02T15:04:05.999999999"), fi.Mode())
}
