package codec

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"time"

	"github.com/hamba/avro/v2"
)

// Avro records come in the Confluent wire format: a zero magic byte, the
// writer schema's registry id (4 bytes, big-endian), then the datum. The
// datum is read into plain values along its schema, unions unwrapped, and
// encoded as JSON, so that the field spellings and --field paths of JSON
// apply to Avro alike.

// avroConfig bounds what one datum may make the reader allocate: no string
// or bytes value can be longer than the message that carries it.
var avroConfig = avro.Config{MaxByteSliceSize: MaxMessageBytes, MaxSliceAllocSize: MaxMessageBytes}.Freeze()

// maxAvroItems bounds the array and map items of one datum: items of a
// zero-width type (null, an empty record) take no bytes, so a tiny message
// could otherwise announce billions of them.
const maxAvroItems = 1 << 16

// errAvroItems reports a datum past maxAvroItems.
var errAvroItems = errors.New("more array or map items than a message may carry")

// avroToJSON reads a value or key in the Confluent wire format into JSON.
func (d *Decoder) avroToJSON(v []byte) ([]byte, error) {
	if len(v) < 5 || v[0] != 0 {
		return nil, formatErr("not Avro in the Confluent wire format (magic byte 0, then a 4-byte schema id)")
	}
	id := binary.BigEndian.Uint32(v[1:5])
	if d.Schemas == nil {
		return nil, formatErr("Avro record with schema id %d, but no schema registry to read it: give --schema-registry URL", id)
	}
	schema, err := d.Schemas.AvroSchema(id)
	if err != nil {
		return nil, formatErr("Avro schema id %d: %v", id, err)
	}
	r := avro.NewReader(nil, 0, avro.WithReaderConfig(avroConfig)).Reset(v[5:])
	ar := avroReader{r: r, items: maxAvroItems}
	datum, err := ar.read(schema, 0)
	if err == nil && r.Error != nil {
		err = r.Error
	}
	if err == nil {
		if r.Peek(); r.Error == nil {
			err = errors.New("bytes left over after the record")
		}
	}
	if err != nil {
		return nil, formatErr("Avro record does not fit schema id %d: %v", id, err)
	}
	if _, ok := datum.(map[string]any); !ok {
		return nil, formatErr("Avro schema id %d is a %s, not a record", id, schema.Type())
	}
	js, err := json.Marshal(datum)
	if err != nil {
		return nil, formatErr("Avro record with schema id %d: %v", id, err)
	}
	return js, nil
}

// avroReader reads a datum within bounds: items counts down the array and
// map items it may still have, and values nest at most maxDepth deep (a
// recursive schema could otherwise recurse once per byte).
type avroReader struct {
	r     *avro.Reader
	items int
}

// read reads one value of the schema. The reader's own errors (a datum cut
// short, a bad length) are left in r.Error for the caller.
func (ar *avroReader) read(schema avro.Schema, depth int) (any, error) {
	r := ar.r
	if r.Error != nil {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, errors.New("values nested too deep")
	}
	var logical avro.LogicalType
	if ls, ok := schema.(avro.LogicalTypeSchema); ok && ls.Logical() != nil {
		logical = ls.Logical().Type()
	}
	switch s := schema.(type) {
	case *avro.RefSchema:
		return ar.read(s.Schema(), depth)
	case *avro.RecordSchema:
		obj := make(map[string]any, len(s.Fields()))
		for _, f := range s.Fields() {
			v, err := ar.read(f.Type(), depth+1)
			if err != nil {
				return nil, err
			}
			obj[f.Name()] = v
		}
		return obj, nil
	case *avro.UnionSchema:
		types := s.Types()
		i := r.ReadLong()
		if i < 0 || i >= int64(len(types)) {
			return nil, errors.New("union branch out of range")
		}
		// The value itself, not Avro JSON's {"type": value}: a nullable
		// field is just a field that may be null.
		return ar.read(types[i], depth+1)
	case *avro.ArraySchema:
		arr := []any{}
		err := ar.blocks(func() error {
			v, err := ar.read(s.Items(), depth+1)
			arr = append(arr, v)
			return err
		})
		return arr, err
	case *avro.MapSchema:
		obj := map[string]any{}
		err := ar.blocks(func() error {
			k := r.ReadString()
			v, err := ar.read(s.Values(), depth+1)
			obj[k] = v
			return err
		})
		return obj, err
	case *avro.EnumSchema:
		i := r.ReadInt()
		if i < 0 || int(i) >= len(s.Symbols()) {
			return nil, errors.New("enum symbol out of range")
		}
		return s.Symbols()[i], nil
	case *avro.FixedSchema:
		b := make([]byte, s.Size())
		r.Read(b)
		if logical == avro.Decimal {
			return decimalFloat(b, s.Logical().(*avro.DecimalLogicalSchema).Scale()), nil
		}
		return b, nil
	}
	switch schema.Type() {
	case avro.Null:
		return nil, nil
	case avro.Boolean:
		return r.ReadBool(), nil
	case avro.Int:
		i := r.ReadInt()
		if logical == avro.Date {
			return time.Unix(int64(i)*86400, 0).UTC(), nil
		}
		return i, nil
	case avro.Long:
		i := r.ReadLong()
		switch logical {
		case avro.TimestampMillis:
			return time.UnixMilli(i).UTC(), nil
		case avro.TimestampMicros:
			return time.UnixMicro(i).UTC(), nil
		}
		return i, nil
	case avro.Float:
		return finiteOrNil(float64(r.ReadFloat())), nil
	case avro.Double:
		return finiteOrNil(r.ReadDouble()), nil
	case avro.String:
		return r.ReadString(), nil
	case avro.Bytes:
		b := r.ReadBytes()
		if logical == avro.Decimal {
			return decimalFloat(b, schema.(*avro.PrimitiveSchema).Logical().(*avro.DecimalLogicalSchema).Scale()), nil
		}
		return b, nil
	}
	return nil, errors.New("unsupported schema type " + string(schema.Type()))
}

// blocks reads the blocks of an array or map, calling item per item.
func (ar *avroReader) blocks(item func() error) error {
	r := ar.r
	for {
		n, _ := r.ReadBlockHeader()
		if n == 0 || r.Error != nil {
			return nil
		}
		if n < 0 || n > int64(ar.items) {
			return errAvroItems
		}
		ar.items -= int(n)
		for range n {
			if err := item(); err != nil || r.Error != nil {
				return err
			}
		}
	}
}

// finiteOrNil drops NaN and infinities, which JSON cannot carry: a field
// that holds one counts as absent (and a required one as missing).
func finiteOrNil(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// decimalFloat reads an Avro decimal: a big-endian two's complement
// unscaled integer, times ten to the minus scale.
func decimalFloat(b []byte, scale int) any {
	i := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		i.Sub(i, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	f, _ := new(big.Rat).SetFrac(i, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).Float64()
	return finiteOrNil(f)
}
