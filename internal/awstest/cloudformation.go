package awstest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// CloudFormationStack is a deployed stack of the CloudFormation stand-in.
type CloudFormationStack struct {
	Name string
	// Status is the stack's status (default CREATE_COMPLETE).
	Status     string
	Parameters map[string]string
	Outputs    map[string]string
}

// ID is the stack's ARN, as DescribeStacks returns it in StackId.
func (s CloudFormationStack) ID() string {
	return "arn:aws:cloudformation:" + SQSRegion + ":" + SQSAccountID + ":stack/" + s.Name + "/00000000-0000-4000-8000-000000000000"
}

// CloudFormationServer speaks CloudFormation's AWS query protocol (a
// form-encoded POST, Action=<Operation>, XML responses) on loopback for
// DescribeStacks. Point the real SDK client at URL through
// AWS_ENDPOINT_URL_CLOUDFORMATION or cloudformation.Options.BaseEndpoint.
type CloudFormationServer struct {
	server *httptest.Server
	mu     sync.Mutex
	stacks map[string]CloudFormationStack
}

// NewCloudFormationServer starts a stand-in with stacks. Close it when done.
func NewCloudFormationServer(stacks ...CloudFormationStack) *CloudFormationServer {
	s := &CloudFormationServer{stacks: map[string]CloudFormationStack{}}
	for _, st := range stacks {
		s.Put(st)
	}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the endpoint to point the SDK client at.
func (s *CloudFormationServer) URL() string { return s.server.URL }

// Close stops the server.
func (s *CloudFormationServer) Close() { s.server.Close() }

// Put deploys st, replacing the stack of the same name.
func (s *CloudFormationServer) Put(st CloudFormationStack) {
	if st.Status == "" {
		st.Status = "CREATE_COMPLETE"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stacks[st.Name] = st
}

type cfnParameter struct {
	ParameterKey   string
	ParameterValue string
}

type cfnOutput struct {
	OutputKey   string
	OutputValue string
}

type cfnStack struct {
	StackID      string `xml:"StackId"`
	StackName    string
	CreationTime string
	StackStatus  string
	Parameters   []cfnParameter `xml:"Parameters>member"`
	Outputs      []cfnOutput    `xml:"Outputs>member"`
}

type cfnDescribeStacksResponse struct {
	XMLName   xml.Name   `xml:"http://cloudformation.amazonaws.com/doc/2010-05-15/ DescribeStacksResponse"`
	Stacks    []cfnStack `xml:"DescribeStacksResult>Stacks>member"`
	RequestID string     `xml:"ResponseMetadata>RequestId"`
}

type cfnErrorResponse struct {
	XMLName   xml.Name `xml:"http://cloudformation.amazonaws.com/doc/2010-05-15/ ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

const cfnRequestID = "00000000-0000-4000-8000-000000000000"

func (s *CloudFormationServer) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_ = xml.NewEncoder(w).Encode(cfnErrorResponse{Type: "Sender", Code: code, Message: msg, RequestID: cfnRequestID})
	}
	if err := checkSigned(r.Header.Get("Authorization"), "cloudformation"); err != nil {
		fail(err.status, err.typ, err.message)
		return
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		fail(http.StatusBadRequest, "MalformedQueryString", "expected a form-encoded POST")
		return
	}
	if a := r.PostForm.Get("Action"); a != "DescribeStacks" {
		fail(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("%s is not an action this CloudFormation stand-in serves", a))
		return
	}
	name := r.PostForm.Get("StackName")
	s.mu.Lock()
	var found []CloudFormationStack
	for _, st := range s.stacks {
		if name == "" || name == st.Name || name == st.ID() {
			found = append(found, st)
		}
	}
	s.mu.Unlock()
	if name != "" && len(found) == 0 {
		fail(http.StatusBadRequest, "ValidationError", "Stack with id "+name+" does not exist")
		return
	}
	slices.SortFunc(found, func(a, b CloudFormationStack) int { return strings.Compare(a.Name, b.Name) })
	resp := cfnDescribeStacksResponse{RequestID: cfnRequestID}
	for _, st := range found {
		out := cfnStack{StackID: st.ID(), StackName: st.Name, StackStatus: st.Status,
			CreationTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)}
		for _, k := range sortedKeys(st.Parameters) {
			out.Parameters = append(out.Parameters, cfnParameter{k, st.Parameters[k]})
		}
		for _, k := range sortedKeys(st.Outputs) {
			out.Outputs = append(out.Outputs, cfnOutput{k, st.Outputs[k]})
		}
		resp.Stacks = append(resp.Stacks, out)
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(resp)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
