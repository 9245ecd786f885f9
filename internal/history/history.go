// Package history keeps fleetwatch's record of the streams in PostgreSQL:
// it writes decoded records in batches, each batch in one transaction with
// the Kafka offsets it came from, so a recorder that resumes from Offsets
// writes every record exactly once; and it reads the fleet back as it was
// at any moment.
//
// A recorder uses it so:
//
//   - Open, then Migrate (readers call CheckSchema instead).
//   - On being assigned partitions, read Offsets and start each partition
//     there (where the database has none, from wherever the group starts).
//   - Collect records into a Batch with Add and Write it with the group.
//   - After any failed Write, read Offsets again and seek to them before
//     going on. This covers every case: a Retryable error whose commit did
//     in fact happen (the retry would be refused with ErrAlreadyWritten), a
//     batch refused because another recorder got the partition, a restart.
//
// Vehicle positions, the bulk of the data, go to a table partitioned by day
// (UTC), so retention drops whole days instead of deleting rows. The schema
// is created and upgraded by embedded goose migrations (Migrate).
package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a connection pool to one history database. It is safe for
// concurrent use: recorders of several partitions may Write at once.
type Store struct {
	pool *pgxpool.Pool
	addr string // user@host:port/database, for messages; never the password

	mu    sync.Mutex
	parts map[int64]bool // vehicle_positions day partitions known to exist, by Unix day
}

// Open connects to the database at url (postgres://user:pass@host:port/db?…,
// or a libpq key=value string) and checks that it answers. A wrong password,
// a missing database or a server that is not there fail here with one line
// that says which; the schema is not touched (see Migrate).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn masks the password in its message.
		return nil, fmt.Errorf("history: bad database URL: %w", err)
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = 10 * time.Second
	}
	// Timestamps come back in UTC whatever the server's zone, as the
	// decoders produce them, so a stored event reads back equal.
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["timezone"] = "UTC"
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "fleetwatch"
	}
	s := &Store{
		addr:  fmt.Sprintf("%s@%s/%s", cc.User, net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)), cc.Database),
		parts: map[int64]bool{},
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.connectErr(err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, s.connectErr(err)
	}
	return s, nil
}

// Close closes every connection.
func (s *Store) Close() { s.pool.Close() }

// Addr names the database as user@host:port/database, for messages.
func (s *Store) Addr() string { return s.addr }

// connectErr turns a failed connection into one line that names the server
// and says what went wrong, keeping the cause for errors.Is/As.
func (s *Store) connectErr(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return &wrapped{fmt.Sprintf("history: connect %s: authentication failed: %s", s.addr, pg.Message), err}
		case "3D000": // invalid_catalog_name
			return &wrapped{fmt.Sprintf("history: connect %s: %s; create it, or point to another database", s.addr, pg.Message), err}
		}
		return &wrapped{fmt.Sprintf("history: connect %s: %s", s.addr, pg.Message), err}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &wrapped{fmt.Sprintf("history: connect %s: connection refused; is PostgreSQL running there?", s.addr), err}
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return &wrapped{fmt.Sprintf("history: connect %s: no answer in time", s.addr), err}
	}
	// pgconn's text spans several lines when a host name has several
	// addresses; the last says why.
	msg := err.Error()
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	return &wrapped{fmt.Sprintf("history: connect %s: %s", s.addr, msg), err}
}

// wrapped is an error with a message of its own that still unwraps to its
// cause: pgconn's text for a failed connection is long, repeats what the
// message says, and may span lines, while the caller prints one line.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// Retryable tells whether err is worth retrying after a pause: the server
// is down, restarting, unreachable, or a transaction lost a race with
// another. A wrong password, a missing database, a too-new schema or a
// batch written twice are not: retrying cannot fix them.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrSchemaTooNew) || errors.Is(err, ErrAlreadyWritten) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"), // connection exception
			strings.HasPrefix(pg.Code, "57P"),      // admin shutdown, crash shutdown, cannot connect now
			strings.HasPrefix(pg.Code, "53"),       // insufficient resources (too many connections, disk full)
			pg.Code == "40001", pg.Code == "40P01": // serialization failure, deadlock
			return true
		}
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	// A server that goes away mid-statement ends the stream early.
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
