package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// downloadHook, if set (by tests), is called after every chunk written
// with the bytes written so far; an error interrupts the download as a
// broken connection would.
var downloadHook func(written int64) error

// newDownload downloads a bundle into FILE.part, checks its SHA-256 and
// renames it to FILE. With -resume it continues FILE.part from where an
// interrupted download stopped; the server refuses if the bundle changed.
func newDownload(e *env) *cobra.Command {
	var (
		out           string
		resume, force bool
	)
	cmd := command("download [-o FILE] ID", "download a bundle (resumable) and check its SHA-256", 1, 1, nil)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output `file`; default <id>.zip. Not a directory: give a file name. A symlink or a device\n"+
		"is never replaced, an existing regular file only with -f. The bundle goes to FILE.part\n"+
		"(mode 0600) first, which is kept only when the transfer breaks, for -resume")
	cmd.Flags().BoolVar(&resume, "resume", false, "continue an interrupted download of the same file from FILE.part")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "replace an existing regular file (and, without -resume, a stale FILE.part)")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		id := args[0]
		if out == "" {
			out = id + ".zip"
		}
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			size, sum, err := download(e, c, id, out, resume, force)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "wrote %s (%d bytes, sha256 %s)\n", out, size, sum)
			return err
		})
	}
	return cmd
}

// download is client.Download with a progress bar on a terminal and, when
// the partial file was kept, the command that continues it.
func download(e *env, c dsarv1.AccessRequestServiceClient, id, out string, resume, force bool) (int64, string, error) {
	bar := progress.NewBytes(e.stderr)
	opt := client.DownloadOptions{Resume: resume, Force: force, Progress: func(written, size int64) error {
		bar.Update(written, size)
		if downloadHook != nil {
			return downloadHook(written)
		}
		return nil
	}}
	size, sum, err := client.Download(e.ctx, c, id, out, opt)
	var pe *client.PartialError
	if errors.As(err, &pe) {
		return 0, "", fmt.Errorf("%v; %s was kept: run `dsarctl download -resume -o %s %s` to continue it, or remove it", pe.Err, pe.Part, out, id)
	}
	return size, sum, err
}
