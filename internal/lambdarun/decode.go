package lambdarun

import (
	"bytes"
	"encoding/json"
	"errors"
)

// DecodeEvent decodes an event strictly: a field the type does not have is an
// error, so an event of another shape (plain json.Unmarshal accepts any JSON
// object into any struct) is refused instead of handled as an empty one.
func DecodeEvent(payload []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the event")
	}
	return nil
}
