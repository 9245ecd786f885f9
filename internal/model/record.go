package model

import "time"

// Record is one message as read from a stream, before decoding. It is the
// domain's unit of input: the consumers make it, the codecs read it, and the
// stores point at it when they refuse one, so it lives with the events
// rather than with any one codec.
type Record struct {
	Kind  Kind      // which stream the record belongs to
	Key   []byte    // the message key; a tombstone's vehicle id
	Value []byte    // nil for a tombstone
	Time  time.Time // the broker's record timestamp; used where the value has no ts
	// Where the record was read, to point at a rejected one.
	Topic     string
	Partition int32
	Offset    int64
	// End is the partition's end offset when the record was read, on the
	// last record of a delivered batch (0 elsewhere: unknown). It tells a
	// reader whether the partition is caught up, which the alert clock
	// needs: a partition still behind holds the data's time back.
	End int64
}

// DecodeError says why a record was rejected. The codecs make them; the
// fleet's counters, the ingest store and the history count them by
// Category, which is why the type lives here and not in the codec package.
type DecodeError struct {
	Field    string
	Reason   string
	Category Category
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Category groups rejections for counting: what went wrong, not where.
type Category string

// The rejection categories.
const (
	CatNotJSON       Category = "not_json"
	CatWrongType     Category = "wrong_type"
	CatOutOfRange    Category = "out_of_range"
	CatMissingID     Category = "missing_id"
	CatTooLarge      Category = "too_large"
	CatUnknownFormat Category = "unknown_format"
)

// Categories lists every category, in display order.
var Categories = [...]Category{CatNotJSON, CatWrongType, CatOutOfRange, CatMissingID, CatTooLarge, CatUnknownFormat}

func (c Category) index() int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return len(Categories) - 1 // unknown_format
}
