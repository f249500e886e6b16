//go:build unix

package client

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow makes opening a symlink fail instead of following it.
const openNoFollow = syscall.O_NOFOLLOW

// checkOwner refuses a partial file of another user, or one with another
// link: appending to a hard link planted as the partial file would write
// into the file it is linked to.
func checkOwner(part string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("download: cannot tell who owns %s; refusing to resume into it", part)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("download: %s belongs to another user; refusing to resume into it", part)
	}
	if st.Nlink != 1 {
		return fmt.Errorf("download: %s has %d links, not 1; refusing to resume into it", part, st.Nlink)
	}
	return nil
}
