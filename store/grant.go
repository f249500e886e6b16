package store

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// LoadGrant returns the grant of an account's OAuth app, or an error of
// code dsar.ENOTFOUND wrapping ErrNotFound if none is stored.
func (db *DB) LoadGrant(ctx context.Context, account string) (dsar.Grant, error) {
	const op = "store.LoadGrant"
	if account == "" {
		return dsar.Grant{}, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "an account name is required"}
	}
	var g dsar.Grant
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketGrants).Get([]byte(account))
		if v == nil {
			return notFound(op, "grant of account "+account)
		}
		plain, err := db.openGrant(account, v)
		if err == nil {
			g, err = decodeGrant(plain)
		}
		if err != nil {
			return badRecord(op, "grant of account "+account, err)
		}
		return nil
	})
	return g, err
}

// SaveGrant replaces the grant of an account's OAuth app. Like every
// write it is synced before it returns: zoomclient relies on that, as Zoom
// has already given up the refresh token this one replaces.
func (db *DB) SaveGrant(ctx context.Context, account string, g dsar.Grant) error {
	const op = "store.SaveGrant"
	if account == "" || g.RefreshToken == "" {
		return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "an account name and a refresh token are required"}
	}
	v, err := json.Marshal(toGrantRecord(&g))
	if err != nil {
		return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
	}
	if db.sealer != nil {
		v = db.sealGrant(account, v)
	}
	return db.update(ctx, op, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketGrants).Put([]byte(account), v)
	})
}
