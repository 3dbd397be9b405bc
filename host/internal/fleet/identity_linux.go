//go:build linux

package fleet

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity describes the file at path so that replacing it, even by
// one of the same size and modification time (mv of a copy made with
// cp -p), changes the description: device, inode and change time.
func fileIdentity(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	id := fmt.Sprintf("%d %s %s", fi.Size(), fi.ModTime().UTC().Format("2006-01-02T15:04:05.999999999"), fi.Mode())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id += fmt.Sprintf(" %d:%d %d.%d", st.Dev, st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
	}
	return id
}
