package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// A platform asks dsard for a person's data, waits for the request to end
// and downloads the bundle, resuming after a broken connection.
func Example() {
	ctx := context.Background()
	c, err := client.Dial(client.Config{
		Addr:   "dsar.internal:7443",
		CAFile: "/etc/dsar/ca.pem", // dsard's CA; CertFile and KeyFile add mTLS
		Token:  os.Getenv("DSAR_TOKEN"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// The idempotency key makes a retried create return the same request.
	resp, err := c.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: "subject@example.com", Account: "acme", IdempotencyKey: "ticket-4711",
		Regulation: dsarv1.Regulation_REGULATION_GDPR,
	})
	if err != nil {
		log.Fatal(err)
	}
	id := resp.GetAccessRequest().GetId()

	// WatchAccessRequest streams the request until it is final.
	w, err := c.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
	if err != nil {
		log.Fatal(err)
	}
	var last *dsarv1.AccessRequest
	for m, err := w.Recv(); err == nil; m, err = w.Recv() {
		last = m.GetAccessRequest()
	}
	if last.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		log.Fatalf("request %s ended %s", id, last.GetState())
	}

	// The bundle goes to bundle.zip.part first; a broken transfer keeps it
	// and Resume continues it, checking every byte against dsard's SHA-256.
	opt := client.DownloadOptions{}
	for attempt := 0; ; attempt++ {
		size, sum, err := client.Download(ctx, c, id, "bundle.zip", opt)
		var partial *client.PartialError
		if errors.As(err, &partial) && attempt < 3 {
			opt.Resume = true
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("bundle.zip: %d bytes, sha256 %s\n", size, sum)
		return
	}
}
