package client

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The functions here put a download on disk without harming what is
// already there: they replace nothing but a regular file, and that only
// when asked; they never follow a symlink planted where the partial file
// goes; the partial file, which holds personal data, is readable by its
// owner only.

// kind names what a non-regular file is, for a message.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// checkTarget refuses out when something is there that must not be
// replaced: anything but a regular file (a device such as /dev/null, a
// directory, a symlink), and a regular file unless force. It is checked
// before anything is downloaded; publish checks again at the end.
func checkTarget(out string, force bool) error {
	fi, err := os.Lstat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("download: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("download: %s is %s; give the name of a file to write, which -f may replace only if it is a regular file", out, kind(fi.Mode()))
	case !force:
		return fmt.Errorf("download: %s exists; use -f to replace it", out)
	}
	return nil
}

// createPart creates the partial file afresh with mode 0600. O_EXCL
// makes the creation fail on anything already there, a symlink too,
// dangling or not, so a planted one is never followed. With force a
// regular partial file left by an earlier download is removed first;
// anything else there is refused.
func createPart(part string, force bool) (*os.File, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return nil, fmt.Errorf("download: %w", err)
		}
		return f, nil
	}
	fi, err := os.Lstat(part)
	switch {
	case err != nil:
		return nil, fmt.Errorf("download: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("download: %s is %s; remove it, it is not a partial download", part, kind(fi.Mode()))
	case !force:
		return nil, fmt.Errorf("download: %s exists, from an interrupted download: continue it with -resume, or start over with -f", part)
	}
	if err := os.Remove(part); err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	f, err = os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	return f, nil
}

// openPart opens the partial file of an interrupted download to continue
// it, positioned at its start; when there is none it creates one. It
// reads and appends to the file only if it is one Download could have
// left: a regular file (not a symlink, not followed), owned by the
// current user, mode 0600, with no other link. The checks are made again
// on the opened file, so a file swapped in between is refused too.
func openPart(part string) (*os.File, error) {
	before, err := os.Lstat(part)
	if errors.Is(err, fs.ErrNotExist) {
		return createPart(part, false)
	}
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	if err := checkPart(part, before); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(part, os.O_RDWR|openNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	after, err := f.Stat()
	if err == nil && !os.SameFile(before, after) {
		err = fmt.Errorf("download: %s was replaced while it was opened; refusing to use it", part)
	}
	if err == nil {
		err = checkPart(part, after)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkPart refuses a partial file that Download cannot have left.
func checkPart(part string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("download: %s is %s; refusing to resume into it", part, kind(fi.Mode()))
	}
	if fi.Mode().Perm() != 0o600 {
		return fmt.Errorf("download: %s has mode %04o, not the 0600 of a partial download; refusing to resume into it", part, fi.Mode().Perm())
	}
	return checkOwner(part, fi)
}

// linkFile is os.Link; tests replace it to act as a file system without
// hard links.
var linkFile = os.Link

// publish moves the complete, verified partial file to out. Without
// force it never replaces anything: a hard link fails if out exists,
// atomically, where a check before a rename would leave a window. Where
// the file system has no hard links it falls back to that check. With
// force it replaces only a regular file.
func publish(part, out string, force bool) error {
	if !force {
		err := linkFile(part, out)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("download: %s appeared during the download; it was left alone, use -f to replace it", out)
		}
		if err == nil {
			if err := os.Remove(part); err != nil {
				return fmt.Errorf("download: %s is complete, but %w", out, err)
			}
			return nil
		}
	}
	fi, err := os.Lstat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("download: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("download: %s became %s during the download; it was left alone", out, kind(fi.Mode()))
	case !force:
		return fmt.Errorf("download: %s appeared during the download; it was left alone, use -f to replace it", out)
	}
	if err := os.Rename(part, out); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	return nil
}
