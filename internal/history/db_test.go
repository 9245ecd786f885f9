package history

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// realDB returns the URL of the PostgreSQL the tests run against
// (FLEETWATCH_TEST_DB), skipping the test when none is given, as
// testutil.RealKafka does for Kafka.
func realDB(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FLEETWATCH_TEST_DB")
	if u == "" {
		t.Skip("FLEETWATCH_TEST_DB not set (make pg-up, then FLEETWATCH_TEST_DB=postgres://fleet:fleet@127.0.0.1:5432/fleet?sslmode=disable)")
	}
	return u
}

// freshDB creates a database of its own for the test on the real server,
// dropped when the test ends, and returns its URL: tests may then run in
// parallel and leave nothing behind.
func freshDB(t testing.TB) string {
	t.Helper()
	base := realDB(t)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("FLEETWATCH_TEST_DB=%q: want a postgres:// URL", base)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := "test_" + strings.ToLower(strings.NewReplacer("/", "_", " ", "_", "-", "_").Replace(t.Name()))
	name = name[:min(len(name), 40)] + "_" + hex.EncodeToString(rnd[:])
	admin := func(sql string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connect %s: %v", u.Redacted(), err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	ident := pgx.Identifier{name}.Sanitize()
	admin("CREATE DATABASE " + ident)
	t.Cleanup(func() { admin("DROP DATABASE IF EXISTS " + ident + " WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// openTest opens a fresh, migrated database for the test.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openAt(t, freshDB(t))
}

// openAt opens the database at u and migrates it.
func openAt(t testing.TB, u string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// count returns the number of rows a query counts.
func count(t testing.TB, s *Store, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
