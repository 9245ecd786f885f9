package history

import (
	"context"
	"testing"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// openTest opens a fresh, migrated database for the test.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openAt(t, testutil.FreshDB(t))
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
