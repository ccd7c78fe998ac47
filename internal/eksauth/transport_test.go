package eksauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// scriptedServer answers requests with statuses in turn (200 once they run
// out) and records what each request carried.
type scriptedServer struct {
	mu       sync.Mutex
	replies  []reply
	auths    []string
	bodies   []string
	requests int
}

type reply struct {
	code    int
	message string
}

func (s *scriptedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	s.auths = append(s.auths, r.Header.Get("Authorization"))
	s.bodies = append(s.bodies, string(body))
	rep := reply{code: http.StatusOK}
	if len(s.replies) > 0 {
		rep, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()
	reason := map[int]metav1.StatusReason{200: "", 401: metav1.StatusReasonUnauthorized, 403: metav1.StatusReasonForbidden}[rep.code]
	status := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Message: rep.message, Reason: reason, Code: int32(rep.code)}
	if rep.code == http.StatusOK {
		status.Status = "Success"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.code)
	_ = json.NewEncoder(w).Encode(status)
}

func TestTokenTransport(t *testing.T) {
	const rbacDenial = `configmaps is forbidden: User "arn:aws:iam::111122223333:role/x" cannot list resource "configmaps" in API group "" in the namespace "prod"`
	const admissionDenial = `configmaps "a" is forbidden: unable to create new content in namespace prod because it is being terminated`
	tests := []struct {
		name string
		// replies are the server's answers in turn.
		replies []reply
		// opaqueBody sends a body that cannot be replayed (no GetBody).
		opaqueBody   bool
		wantRequests int
		wantPresigns int64
		wantCode     int
		wantMessage  string // substring of the final Status message; "=" prefix for equality
	}{
		{name: "accepted", wantRequests: 1, wantPresigns: 1, wantCode: 200},
		{name: "401 then accepted: one refresh, one retry", replies: []reply{{401, "Unauthorized"}}, wantRequests: 2, wantPresigns: 2, wantCode: 200},
		{name: "401 twice: no loop, hint added", replies: []reply{{401, "Unauthorized"}, {401, "Unauthorized"}, {401, "Unauthorized"}}, wantRequests: 2, wantPresigns: 2, wantCode: 401, wantMessage: "needs an EKS access entry"},
		{name: "401 with a body that cannot be replayed: no retry", replies: []reply{{401, "Unauthorized"}}, opaqueBody: true, wantRequests: 1, wantPresigns: 1, wantCode: 401, wantMessage: "needs an EKS access entry"},
		{name: "403 from RBAC: hint added", replies: []reply{{403, rbacDenial}}, wantRequests: 1, wantPresigns: 1, wantCode: 403, wantMessage: "access policy or Kubernetes groups"},
		{name: "403 from admission: left alone", replies: []reply{{403, admissionDenial}}, wantRequests: 1, wantPresigns: 1, wantCode: 403, wantMessage: "=" + admissionDenial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scriptedServer{replies: tt.replies}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c := newClock(unitTime)
			presigner := newCountingPresigner(unitAWSConfig(""))
			p, err := New(context.Background(), unitCluster, WithAWSConfig(unitAWSConfig("")), WithSTSPresignClient(presigner), WithClock(c.Now))
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: p.wrapTransport(http.DefaultTransport)}

			const payload = `{"kind":"ConfigMap"}`
			var body io.Reader = strings.NewReader(payload) // NewRequest sets GetBody for it
			if tt.opaqueBody {
				body = io.NopCloser(strings.NewReader(payload))
			}
			req, err := http.NewRequest(http.MethodPatch, ts.URL+"/api/v1/namespaces/prod/configmaps/a", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var status metav1.Status
			if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
				t.Fatalf("decoding the final response: %v", err)
			}

			if resp.StatusCode != tt.wantCode {
				t.Errorf("status code = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if srv.requests != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d", srv.requests, tt.wantRequests)
			}
			if got := presigner.calls.Load(); got != tt.wantPresigns {
				t.Errorf("presigned %d tokens, want %d", got, tt.wantPresigns)
			}
			wantBodies := make([]string, tt.wantRequests)
			for i := range wantBodies {
				wantBodies[i] = payload
			}
			if diff := cmp.Diff(wantBodies, srv.bodies); diff != "" {
				t.Errorf("request bodies (-want +got):\n%s", diff)
			}
			for i, a := range srv.auths {
				if !strings.HasPrefix(a, "Bearer k8s-aws-v1.") {
					t.Errorf("request %d: Authorization = %q, want an EKS bearer token", i, a)
				}
			}
			if want, exact := strings.CutPrefix(tt.wantMessage, "="); exact && status.Message != want {
				t.Errorf("message = %q, want it unchanged: %q", status.Message, want)
			} else if !exact && !strings.Contains(status.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", status.Message, tt.wantMessage)
			}
			if tt.wantCode != 200 && string(status.Reason) != map[int]string{401: "Unauthorized", 403: "Forbidden"}[tt.wantCode] {
				t.Errorf("reason = %q, want the API server's", status.Reason)
			}
		})
	}
}
