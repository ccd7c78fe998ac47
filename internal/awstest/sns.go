package awstest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
)

// SNSPublished is a message the SNS stand-in accepted.
type SNSPublished struct {
	TopicARN, Subject, Message string
}

// SNSServer speaks SNS's AWS query protocol on loopback for Publish.
// Point the real SDK client at URL through AWS_ENDPOINT_URL_SNS or
// sns.Options.BaseEndpoint.
type SNSServer struct {
	server    *httptest.Server
	mu        sync.Mutex
	topics    map[string]bool
	published []SNSPublished
}

// NewSNSServer starts a stand-in with the topics named by ARN.
func NewSNSServer(topicARNs ...string) *SNSServer {
	s := &SNSServer{topics: map[string]bool{}}
	for _, t := range topicARNs {
		s.topics[t] = true
	}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the endpoint to point the SDK client at.
func (s *SNSServer) URL() string { return s.server.URL }

// Close stops the server.
func (s *SNSServer) Close() { s.server.Close() }

// Published returns the messages published so far.
func (s *SNSServer) Published() []SNSPublished {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SNSPublished(nil), s.published...)
}

type snsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
}

func (s *SNSServer) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_ = xml.NewEncoder(w).Encode(snsErrorResponse{Type: "Sender", Code: code, Message: msg})
	}
	if err := checkSigned(r.Header.Get("Authorization"), "sns"); err != nil {
		fail(err.status, err.typ, err.message)
		return
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		fail(http.StatusBadRequest, "MalformedQueryString", "expected a form-encoded POST")
		return
	}
	if a := r.PostForm.Get("Action"); a != "Publish" {
		fail(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("%s is not an action this SNS stand-in serves", a))
		return
	}
	p := SNSPublished{TopicARN: r.PostForm.Get("TopicArn"), Subject: r.PostForm.Get("Subject"), Message: r.PostForm.Get("Message")}
	s.mu.Lock()
	known := s.topics[p.TopicARN]
	if known {
		s.published = append(s.published, p)
	}
	n := len(s.published)
	s.mu.Unlock()
	switch {
	case !known:
		fail(http.StatusNotFound, "NotFound", "Topic does not exist")
		return
	case p.Message == "":
		fail(http.StatusBadRequest, "InvalidParameter", "Invalid parameter: Empty message")
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>00000000-0000-4000-8000-%012d</MessageId></PublishResult><ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></PublishResponse>`, n)
}
