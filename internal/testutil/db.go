package testutil

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

// RealDB returns the URL of the PostgreSQL the tests run against
// (FLEETWATCH_TEST_DB), skipping the test when none is given, as
// testutil.RealKafka does for Kafka.
func RealDB(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FLEETWATCH_TEST_DB")
	if u == "" {
		t.Skip("FLEETWATCH_TEST_DB not set (make pg-up, then FLEETWATCH_TEST_DB=postgres://fleet:fleet@127.0.0.1:5432/fleet?sslmode=disable)")
	}
	return u
}

// FreshDB creates a database of its own for the test on the real server,
// dropped when the test ends, and returns its URL: tests may then run in
// parallel and leave nothing behind.
func FreshDB(t testing.TB) string {
	t.Helper()
	base := RealDB(t)
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
