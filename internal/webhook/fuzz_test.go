package webhook

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/sluice-gitops/sluice/internal/queue"
)

// FuzzHandle feeds the handler arbitrary bodies and headers. With sign set
// the body gets a valid signature, so the fuzzer explores what a caller who
// knows the secret could send. Whatever the input: no panic, no 5xx, no
// handler error, a JSON body, and a message queued exactly when the answer
// is 202, and then a valid reconcile message.
func FuzzHandle(f *testing.F) {
	// Every input is logged; hundreds of thousands of lines would slow the
	// fuzzer down to the terminal's pace.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	push := pushPayload(fixtureURL, "refs/heads/main", revision, false)
	f.Add(push, "push", "d-1", "application/json", "", true, false)
	f.Add(push, "push", "d-1", "application/x-www-form-urlencoded", "", true, false)
	f.Add(push, "push", "d-1", "application/json", "", true, true)
	f.Add(pushPayload(fixtureURL, "refs/tags/v1", revision, false), "push", "d", "application/json", "", true, false)
	f.Add(pushPayload(fixtureURL, "refs/heads/main", zeroSHA, true), "push", "d", "application/json", "", true, false)
	f.Add(`{"zen":"z","hook_id":1}`, "ping", "d", "application/json", "", true, false)
	f.Add(`null`, "push", "d", "application/json", "", true, false)
	f.Add(`{"ref":"refs/heads/main","after":"`+revision+`","repository":{"html_url":"::"}}`, "push", "d", "application/json", "", true, false)
	f.Add(push, "push", "d-1", "application/json", "sha256=00", false, false)
	f.Add("payload=%7B%7D", "push", "d", "application/x-www-form-urlencoded", "sha1=00", false, false)

	f.Fuzz(func(t *testing.T, body, event, deliveryID, contentType, signature string, sign, b64 bool) {
		q := &recordingQueue{}
		h := newHandler(t, fixtureURL, "main", q)
		d := delivery{event: event, id: deliveryID, contentType: contentType, payload: body, base64: b64, signature: signature, unsigned: !sign && signature == ""}
		if sign {
			d.signature = sign256(body)
		}
		req := d.request()
		if contentType == "" {
			delete(req.Headers, "content-type")
		}
		resp, err := h.Handle(t.Context(), req)
		if err != nil {
			t.Fatalf("handler error for bad input: %v", err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var r Response
		if err := json.Unmarshal([]byte(resp.Body), &r); err != nil {
			t.Fatalf("body %q is not JSON: %v", resp.Body, err)
		}
		switch {
		case resp.StatusCode == http.StatusAccepted:
			if len(q.sent) != 1 || r.Status != StatusQueued {
				t.Fatalf("202 %q with %d messages", r.Status, len(q.sent))
			}
			b, _ := json.Marshal(q.sent[0].Body)
			if _, err := queue.DecodeReconcile(b); err != nil {
				t.Fatalf("queued an invalid message %s: %v", b, err)
			}
			if q.sent[0].Body.Revision != r.Revision || q.sent[0].Group != queue.GroupID(fixtureID, "main") {
				t.Fatalf("message %+v does not match response %+v", q.sent[0], r)
			}
		case len(q.sent) != 0:
			t.Fatalf("status %d but %d messages queued", resp.StatusCode, len(q.sent))
		case resp.StatusCode == http.StatusOK && r.Status != StatusIgnored:
			t.Fatalf("200 with status %q", r.Status)
		case resp.StatusCode >= 400 && r.Status != StatusRejected:
			t.Fatalf("%d with status %q", resp.StatusCode, r.Status)
		}
		if !sign && signature == "" && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("unsigned request answered %d", resp.StatusCode)
		}
	})
}
