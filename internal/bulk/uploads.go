package bulk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"roster/internal/errs"
	"roster/internal/store"
)

// Uploads waiting for Apply live in the database (import_uploads, the file in 1 MiB rows of
// import_upload_chunks), not in an instance: behind a load balancer, the preview on one
// instance and the apply on another read the same bytes. A token, shown once, names an upload;
// only its hash is stored, and it is bound to the person and the session that uploaded it.
// PurgeUploads (a periodic job) deletes those past their expiry. The file may hold passwords:
// its chunks are stored encrypted (AES-256-GCM) under a key derived from the token, which the
// database never holds, so the stored upload reveals none of them.

// UploadTTL is how long an uploaded file waits for Apply.
const UploadTTL = 2 * time.Hour

const uploadChunk = 1 << 20

// Upload is a kept file, taken for Apply.
type Upload struct {
	ID      int64
	Options Options
	Size    int64
	s       *Service
	aead    cipher.AEAD
}

func uploadHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// uploadCipher is the cipher of an upload's chunks, keyed by its token (not by the token's
// stored hash).
func uploadCipher(token string) cipher.AEAD {
	key := sha256.Sum256([]byte("roster-import-upload-key\x00" + token))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// chunkAD binds a chunk to its upload and place.
func chunkAD(upload int64, seq int) []byte { return fmt.Appendf(nil, "%d/%d", upload, seq) }

// KeepUpload stores the file r for Apply by userID in the session whose hash is session, with
// the options it was previewed with, and returns its token.
func (s *Service) KeepUpload(ctx context.Context, r io.Reader, userID int64, session [32]byte, o Options) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	opts, _ := json.Marshal(o)
	aead := uploadCipher(token)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO import_uploads (token_hash, user_id, session_hash, options, size,
			created_at, expires_at) VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING id`, uploadHash(token), userID,
			hex.EncodeToString(session[:]), string(opts), tx.Now.Unix(), tx.Now.Add(UploadTTL).Unix()).Scan(&id); err != nil {
			return err
		}
		buf := make([]byte, uploadChunk)
		var size int64
		for seq := 0; ; seq++ {
			n, err := io.ReadFull(r, buf)
			if n > 0 {
				nonce := make([]byte, aead.NonceSize())
				rand.Read(nonce)
				sealed := aead.Seal(nonce, nonce, buf[:n], chunkAD(id, seq))
				if _, err := tx.ExecContext(ctx, `INSERT INTO import_upload_chunks (upload_id, seq, data) VALUES ($1, $2, $3)`,
					id, seq, sealed); err != nil {
					return err
				}
				size += int64(n)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE import_uploads SET size = $1 WHERE id = $2`, size, id)
		return err
	})
	if err != nil {
		return "", errs.Wrap(err, "bulk: keep upload")
	}
	return token, nil
}

// TakeUpload takes the upload of token for Apply when it belongs to userID in session and has
// not expired, so that no other request takes it meanwhile; nil when there is none. Call
// PutBack when Apply does not start, Drop when it is done.
func (s *Service) TakeUpload(ctx context.Context, token string, userID int64, session [32]byte) (*Upload, error) {
	var (
		u    = &Upload{s: s, aead: uploadCipher(token)}
		opts string
	)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE import_uploads SET taken = true WHERE token_hash = $1 AND user_id = $2
			AND session_hash = $3 AND expires_at > $4 AND NOT taken RETURNING id, options, size`, uploadHash(token), userID,
			hex.EncodeToString(session[:]), tx.Now.Unix()).Scan(&u.ID, &opts, &u.Size)
	})
	if store.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(err, "bulk: take upload")
	}
	if err := json.Unmarshal([]byte(opts), &u.Options); err != nil {
		return nil, errs.Wrap(err, "bulk: upload options")
	}
	return u, nil
}

// PutBack makes a taken upload available again (Apply did not start).
func (u *Upload) PutBack(ctx context.Context) error {
	_, err := u.s.db.ExecContext(ctx, `UPDATE import_uploads SET taken = false WHERE id = $1`, u.ID)
	return errs.Wrap(err, "bulk: put back upload")
}

// Drop deletes the upload (Apply is done).
func (u *Upload) Drop(ctx context.Context) error {
	return errs.Wrap(u.s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM import_uploads WHERE id = $1`, u.ID)
		return err
	}), "bulk: drop upload")
}

// Open reads the file back, one chunk in memory at a time; it may be called again.
func (u *Upload) Open() (io.ReadCloser, error) {
	return &chunkReader{u: u}, nil
}

type chunkReader struct {
	u   *Upload
	seq int
	buf *bytes.Reader
	eof bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.buf == nil || r.buf.Len() == 0 {
		if r.eof {
			return 0, io.EOF
		}
		var data []byte
		err := r.u.s.db.QueryRowContext(context.Background(), `SELECT data FROM import_upload_chunks
			WHERE upload_id = $1 AND seq = $2`, r.u.ID, r.seq).Scan(&data)
		if store.IsNoRows(err) {
			r.eof = true
			continue
		}
		if err != nil {
			return 0, errs.Wrap(err, "bulk: read upload")
		}
		ns := r.u.aead.NonceSize()
		if len(data) < ns {
			return 0, errs.Coded(errs.Gone, "import_kept_file_gone")
		}
		plain, err := r.u.aead.Open(nil, data[:ns], data[ns:], chunkAD(r.u.ID, r.seq))
		if err != nil {
			return 0, errs.Coded(errs.Gone, "import_kept_file_gone")
		}
		r.seq++
		r.buf = bytes.NewReader(plain)
	}
	return r.buf.Read(p)
}

func (r *chunkReader) Close() error { return nil }

// PurgeUploads deletes the uploads past their expiry, with their chunks, and returns how many.
func (s *Service) PurgeUploads(ctx context.Context) (int, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM import_uploads WHERE expires_at <= $1`, tx.Now.Unix())
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return int(n), errs.Wrap(err, "bulk: purge uploads")
}
