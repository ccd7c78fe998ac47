package awstest

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SQSAccountID and SQSRegion are the account and region of the SQS
// stand-in's queues, as their URLs and ARNs show.
const (
	SQSAccountID = "111122223333"
	SQSRegion    = "us-east-1"
)

// Limits and defaults of SQS that the stand-in enforces.
const (
	// sqsDedupWindow is how long a FIFO queue remembers a deduplication id.
	sqsDedupWindow = 5 * time.Minute
	// sqsMaxBody is the largest message body SQS accepts (1 MiB).
	sqsMaxBody = 1 << 20
	// sqsMaxID bounds MessageGroupId and MessageDeduplicationId.
	sqsMaxID = 128
	// sqsDefaultVisibility is a queue's default visibility timeout.
	sqsDefaultVisibility = 30 * time.Second
	// sqsMaxWait is the longest long poll SQS allows.
	sqsMaxWait = 20 * time.Second
)

// SQSQueue defines a queue of the stand-in.
type SQSQueue struct {
	// Name is the queue name; a name ending in ".fifo" makes a FIFO queue.
	Name string
	// ContentBasedDeduplication makes a FIFO queue deduplicate messages sent
	// without a MessageDeduplicationId by the SHA-256 of their body.
	ContentBasedDeduplication bool
	// VisibilityTimeout is how long a received message stays hidden
	// (default 30 s, as SQS's default).
	VisibilityTimeout time.Duration
}

// IsFIFO reports whether q is a FIFO queue.
func (q SQSQueue) IsFIFO() bool { return strings.HasSuffix(q.Name, ".fifo") }

// SQSMessage is a message the stand-in accepted.
type SQSMessage struct {
	// Queue is the name of the queue that holds the message.
	Queue     string
	MessageID string
	Body      string
	MD5OfBody string
	// GroupID, DeduplicationID and SequenceNumber are set on FIFO queues.
	// DeduplicationID is the one sent, or the body's SHA-256 for
	// content-based deduplication.
	GroupID         string
	DeduplicationID string
	SequenceNumber  string
	// SenderID is the access key id that signed the SendMessage request.
	SenderID     string
	SentAt       time.Time
	ReceiveCount int
	// FirstReceivedAt is zero until the message was first received.
	FirstReceivedAt time.Time
	// ReceiptHandle is the handle of the latest receive (one made at send
	// time before that, so an SQSEvent of an unreceived message has one).
	ReceiptHandle string
}

// sqsStored is a message with the state that decides its delivery.
type sqsStored struct {
	SQSMessage
	visibleAt time.Time
	inFlight  bool
}

type sqsQueueState struct {
	def      SQSQueue
	messages []*sqsStored // in send order; deleted ones are removed
	dedup    map[string]sqsDedupEntry
	seq      int64
}

type sqsDedupEntry struct {
	messageID, sequenceNumber string
	at                        time.Time
}

// SQSServer speaks the SQS AWS JSON 1.0 protocol (X-Amz-Target
// AmazonSQS.<Operation>) on loopback for SendMessage, ReceiveMessage,
// DeleteMessage and GetQueueUrl, with the FIFO rules that matter to Sluice:
// MessageGroupId required, deduplication within five minutes, one message
// group delivered in order and never past an in-flight message. Point the
// real SDK client at URL through AWS_ENDPOINT_URL_SQS or
// sqs.Options.BaseEndpoint.
type SQSServer struct {
	server *httptest.Server

	mu      sync.Mutex
	now     func() time.Time
	queues  map[string]*sqsQueueState
	handles map[string]*sqsStored
	changed chan struct{} // closed and replaced whenever a message arrives
	// polling, when set, is called each time a long poll finds nothing and
	// waits: a test sends its message only once a receive is waiting.
	polling func()
}

// NewSQSServer starts an SQS stand-in with queues. Close it when done. It
// panics on an invalid queue definition, as a test setup mistake.
func NewSQSServer(queues ...SQSQueue) *SQSServer {
	s := &SQSServer{
		now:     time.Now,
		queues:  map[string]*sqsQueueState{},
		handles: map[string]*sqsStored{},
		changed: make(chan struct{}),
	}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	for _, q := range queues {
		s.AddQueue(q)
	}
	return s
}

// URL is the base endpoint of the stand-in.
func (s *SQSServer) URL() string { return s.server.URL }

// Close stops the stand-in.
func (s *SQSServer) Close() { s.server.Close() }

// SetClock replaces the stand-in's clock, to step over the deduplication
// window or a visibility timeout without waiting.
func (s *SQSServer) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddQueue creates q (replacing a queue of the same name) and returns its URL.
func (s *SQSServer) AddQueue(q SQSQueue) string {
	if q.Name == "" || strings.ContainsAny(q.Name, "/ ") {
		panic(fmt.Sprintf("awstest: invalid SQS queue name %q", q.Name))
	}
	if q.ContentBasedDeduplication && !q.IsFIFO() {
		panic(fmt.Sprintf("awstest: content-based deduplication needs a FIFO queue, %q is not one", q.Name))
	}
	if q.VisibilityTimeout <= 0 {
		q.VisibilityTimeout = sqsDefaultVisibility
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[q.Name] = &sqsQueueState{def: q, dedup: map[string]sqsDedupEntry{}}
	return s.QueueURL(q.Name)
}

// QueueURL is the URL of the queue name, as GetQueueUrl returns it.
func (s *SQSServer) QueueURL(name string) string {
	return s.server.URL + "/" + SQSAccountID + "/" + name
}

// Messages returns the messages of the queue name not yet deleted, in the
// order they were sent.
func (s *SQSServer) Messages(name string) []SQSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(name, false)
}

// Take removes and returns the messages of the queue name, as Lambda's
// poller does with a batch its function handled. Deduplication ids stay
// remembered, as they do in SQS after a delete.
func (s *SQSServer) Take(name string) []SQSMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(name, true)
}

// messagesLocked copies the messages of the queue name, removing them too
// when take is set.
func (s *SQSServer) messagesLocked(name string, take bool) []SQSMessage {
	q := s.queues[name]
	if q == nil {
		return nil
	}
	msgs := make([]SQSMessage, 0, len(q.messages))
	for _, m := range q.messages {
		msgs = append(msgs, m.SQSMessage)
		if take {
			delete(s.handles, m.ReceiptHandle)
		}
	}
	if take {
		q.messages = nil
	}
	return msgs
}

// SQSEvent returns msgs as Lambda's SQS event source delivers them to a
// function: body, MD5, system attributes (FIFO ones included) and the
// queue's ARN. A message never received counts as received once.
func SQSEvent(msgs ...SQSMessage) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		count, first := m.ReceiveCount, m.FirstReceivedAt
		if count == 0 {
			count, first = 1, m.SentAt
		}
		attrs := map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(count),
			"SentTimestamp":                    sqsMillis(m.SentAt),
			"SenderId":                         m.SenderID,
			"ApproximateFirstReceiveTimestamp": sqsMillis(first),
		}
		if m.GroupID != "" {
			attrs["MessageGroupId"] = m.GroupID
			attrs["MessageDeduplicationId"] = m.DeduplicationID
			attrs["SequenceNumber"] = m.SequenceNumber
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:         m.MessageID,
			ReceiptHandle:     m.ReceiptHandle,
			Body:              m.Body,
			Md5OfBody:         m.MD5OfBody,
			Attributes:        attrs,
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSourceARN:    "arn:aws:sqs:" + SQSRegion + ":" + SQSAccountID + ":" + m.Queue,
			EventSource:       "aws:sqs",
			AWSRegion:         SQSRegion,
		})
	}
	return ev
}

func sqsMillis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// sqsError is an SQS error as the JSON protocol carries it: __type names the
// modelled error, and X-Amzn-Query-Error the code the query protocol used,
// which the SDK reports as the error code (SQS is awsQueryCompatible).
type sqsError struct {
	status    int
	typ       string // modelled shape name, such as QueueDoesNotExist
	queryCode string // such as AWS.SimpleQueueService.NonExistentQueue
	message   string
}

func (e *sqsError) Error() string { return e.queryCode + ": " + e.message }

func sqsInvalid(format string, args ...any) *sqsError {
	return &sqsError{http.StatusBadRequest, "InvalidParameterValue", "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

func sqsMissing(param string) *sqsError {
	return &sqsError{http.StatusBadRequest, "MissingParameter", "MissingParameter", "The request must contain the parameter " + param + "."}
}

func sqsNoQueue() *sqsError {
	return &sqsError{http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
}

func (s *SQSServer) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var (
		out any
		err *sqsError
	)
	switch {
	case r.Method != http.MethodPost || !ok:
		err = &sqsError{http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "expected a POST with X-Amz-Target AmazonSQS.<Operation>"}
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.0"):
		err = sqsInvalid("Content-Type %q is not application/x-amz-json-1.0", r.Header.Get("Content-Type"))
	default:
		sender, authErr := sqsSender(r.Header.Get("Authorization"))
		if authErr != nil {
			err = authErr
			break
		}
		out, err = s.dispatch(r.Context(), op, sender, r)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", sqsRandomID())
	if err != nil {
		fault := "Sender"
		if err.status >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("X-Amzn-Query-Error", err.queryCode+";"+fault)
		w.WriteHeader(err.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + err.typ, "message": err.message})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// sqsSender returns the access key id of a SigV4 Authorization header. The
// signature itself is not checked: the stand-in trusts loopback callers, but
// an unsigned request is refused as SQS refuses it.
func sqsSender(auth string) (string, *sqsError) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !ok {
		return "", &sqsError{http.StatusForbidden, "MissingAuthenticationToken", "MissingAuthenticationToken", "Request is missing Authentication Token"}
	}
	scope := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(scope) != 5 || scope[3] != "sqs" {
		return "", &sqsError{http.StatusForbidden, "InvalidSecurity", "InvalidSecurity", "credential scope is not <key>/<date>/<region>/sqs/aws4_request"}
	}
	return scope[0], nil
}

func (s *SQSServer) dispatch(ctx context.Context, op, sender string, r *http.Request) (any, *sqsError) {
	decode := func(v any) *sqsError {
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 2*sqsMaxBody)).Decode(v); err != nil {
			return sqsInvalid("request body is not a JSON object: %v", err)
		}
		return nil
	}
	switch op {
	case "SendMessage":
		var in sqsSendInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return s.send(in, sender)
	case "ReceiveMessage":
		var in sqsReceiveInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return s.receive(ctx, in)
	case "DeleteMessage":
		var in sqsDeleteInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return struct{}{}, s.delete(in)
	case "ChangeMessageVisibility":
		var in sqsVisibilityInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return struct{}{}, s.changeVisibility(in)
	case "GetQueueAttributes":
		var in struct {
			QueueURL       string `json:"QueueUrl"`
			AttributeNames []string
		}
		if err := decode(&in); err != nil {
			return nil, err
		}
		return s.attributes(in.QueueURL, in.AttributeNames)
	case "GetQueueUrl":
		var in struct{ QueueName string }
		if err := decode(&in); err != nil {
			return nil, err
		}
		s.mu.Lock()
		_, ok := s.queues[in.QueueName]
		s.mu.Unlock()
		if !ok {
			return nil, sqsNoQueue()
		}
		return map[string]string{"QueueUrl": s.QueueURL(in.QueueName)}, nil
	default:
		return nil, &sqsError{http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "the SQS stand-in does not implement " + op}
	}
}

// attributes answers GetQueueAttributes with the attributes the stand-in
// knows of: all of them for "All", else the ones named.
func (s *SQSServer) attributes(queueURL string, names []string) (any, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, qerr := s.queueLocked(queueURL)
	if qerr != nil {
		return nil, qerr
	}
	all := map[string]string{
		"QueueArn":                    "arn:aws:sqs:" + SQSRegion + ":" + SQSAccountID + ":" + q.def.Name,
		"VisibilityTimeout":           strconv.Itoa(int(q.def.VisibilityTimeout / time.Second)),
		"ApproximateNumberOfMessages": strconv.Itoa(len(q.messages)),
	}
	if q.def.IsFIFO() {
		all["FifoQueue"] = "true"
		all["ContentBasedDeduplication"] = strconv.FormatBool(q.def.ContentBasedDeduplication)
	}
	out := map[string]string{}
	for _, n := range names {
		if n == "All" {
			out = all
			break
		}
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

// queueLocked finds the queue a QueueUrl names by its path, /<account>/<name>,
// whatever its host: the SDK sends the URL it was given, which may be the
// real SQS form while the endpoint points here. Call with s.mu held.
func (s *SQSServer) queueLocked(queueURL string) (*sqsQueueState, *sqsError) {
	if queueURL == "" {
		return nil, sqsMissing("QueueUrl")
	}
	u, err := url.Parse(queueURL)
	if err != nil {
		return nil, sqsInvalid("QueueUrl %q is not a URL", queueURL)
	}
	account, name, ok := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if !ok || account != SQSAccountID {
		return nil, sqsNoQueue()
	}
	q := s.queues[name]
	if q == nil {
		return nil, sqsNoQueue()
	}
	return q, nil
}

// The request and response shapes use the SQS JSON member names.
type sqsSendInput struct {
	QueueURL                string  `json:"QueueUrl"`
	MessageBody             *string `json:"MessageBody"`
	DelaySeconds            int     `json:"DelaySeconds"`
	MessageGroupID          *string `json:"MessageGroupId"`
	MessageDeduplicationID  *string `json:"MessageDeduplicationId"`
	MessageAttributes       map[string]json.RawMessage
	MessageSystemAttributes map[string]json.RawMessage
}

type sqsSendOutput struct {
	MessageID        string `json:"MessageId"`
	MD5OfMessageBody string
	SequenceNumber   string `json:",omitempty"`
}

func (s *SQSServer) send(in sqsSendInput, sender string) (any, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, qerr := s.queueLocked(in.QueueURL)
	if qerr != nil {
		return nil, qerr
	}
	if in.MessageBody == nil || *in.MessageBody == "" {
		return nil, sqsMissing("MessageBody")
	}
	body := *in.MessageBody
	if len(body) > sqsMaxBody {
		return nil, sqsInvalid("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", sqsMaxBody)
	}
	if len(in.MessageAttributes) > 0 || len(in.MessageSystemAttributes) > 0 {
		return nil, &sqsError{http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "the SQS stand-in does not support message attributes"}
	}
	sum := md5.Sum([]byte(body))
	now := s.now()
	m := &sqsStored{SQSMessage: SQSMessage{
		Queue: q.def.Name, MessageID: sqsRandomID(), Body: body, MD5OfBody: hex.EncodeToString(sum[:]),
		SenderID: sender, SentAt: now, ReceiptHandle: sqsRandomHandle(),
	}, visibleAt: now}
	if !q.def.IsFIFO() {
		if in.MessageDeduplicationID != nil {
			return nil, sqsInvalid("The request include parameter that is not valid for this queue type")
		}
		if in.DelaySeconds < 0 || in.DelaySeconds > 900 {
			return nil, sqsInvalid("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900.", in.DelaySeconds)
		}
		m.GroupID = sqsDeref(in.MessageGroupID)
		m.visibleAt = now.Add(time.Duration(in.DelaySeconds) * time.Second)
		s.storeLocked(q, m)
		return sqsSendOutput{MessageID: m.MessageID, MD5OfMessageBody: m.MD5OfBody}, nil
	}
	if err := sqsFIFOSend(q, m, in); err != nil {
		return nil, err
	}
	// A duplicate is accepted but not delivered: SQS answers with the first
	// message's id and sequence number, and the MD5 of the body just sent.
	if d, ok := q.dedup[m.DeduplicationID]; ok && now.Sub(d.at) < sqsDedupWindow {
		return sqsSendOutput{MessageID: d.messageID, MD5OfMessageBody: m.MD5OfBody, SequenceNumber: d.sequenceNumber}, nil
	}
	q.seq++
	m.SequenceNumber = fmt.Sprintf("1%019d", q.seq)
	q.dedup[m.DeduplicationID] = sqsDedupEntry{messageID: m.MessageID, sequenceNumber: m.SequenceNumber, at: now}
	s.storeLocked(q, m)
	return sqsSendOutput{MessageID: m.MessageID, MD5OfMessageBody: m.MD5OfBody, SequenceNumber: m.SequenceNumber}, nil
}

// sqsFIFOSend checks a FIFO send and fills in the group and deduplication id.
func sqsFIFOSend(q *sqsQueueState, m *sqsStored, in sqsSendInput) *sqsError {
	if in.DelaySeconds != 0 {
		return sqsInvalid("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", in.DelaySeconds)
	}
	if in.MessageGroupID == nil {
		return sqsMissing("MessageGroupId")
	}
	if err := sqsCheckID("MessageGroupId", *in.MessageGroupID); err != nil {
		return err
	}
	m.GroupID = *in.MessageGroupID
	switch {
	case in.MessageDeduplicationID != nil:
		if err := sqsCheckID("MessageDeduplicationId", *in.MessageDeduplicationID); err != nil {
			return err
		}
		m.DeduplicationID = *in.MessageDeduplicationID
	case q.def.ContentBasedDeduplication:
		sum := sha256.Sum256([]byte(m.Body))
		m.DeduplicationID = hex.EncodeToString(sum[:])
	default:
		return sqsInvalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return nil
}

// sqsCheckID applies SQS's rule for group and deduplication ids: 1 to 128
// characters, each alphanumeric or punctuation (printable ASCII, no space).
func sqsCheckID(param, v string) *sqsError {
	if v == "" || len(v) > sqsMaxID {
		return sqsInvalid("Value %q for parameter %s is invalid. Reason: must be 1 to %d characters long.", v, param, sqsMaxID)
	}
	for _, r := range v {
		if r <= ' ' || r > '~' {
			return sqsInvalid("Value %q for parameter %s is invalid. Reason: may only contain alphanumeric characters and punctuation.", v, param)
		}
	}
	return nil
}

func (s *SQSServer) storeLocked(q *sqsQueueState, m *sqsStored) {
	q.messages = append(q.messages, m)
	s.handles[m.ReceiptHandle] = m
	close(s.changed)
	s.changed = make(chan struct{})
}

type sqsReceiveInput struct {
	QueueURL                    string `json:"QueueUrl"`
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MaxNumberOfMessages         int
	VisibilityTimeout           *int
	WaitTimeSeconds             int
}

type sqsReceivedMessage struct {
	MessageID     string `json:"MessageId"`
	ReceiptHandle string
	MD5OfBody     string
	Body          string
	Attributes    map[string]string `json:",omitempty"`
}

func (s *SQSServer) receive(ctx context.Context, in sqsReceiveInput) (any, *sqsError) {
	if in.MaxNumberOfMessages == 0 {
		in.MaxNumberOfMessages = 1
	}
	if in.MaxNumberOfMessages < 1 || in.MaxNumberOfMessages > 10 {
		return nil, sqsInvalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", in.MaxNumberOfMessages)
	}
	wait := time.Duration(in.WaitTimeSeconds) * time.Second
	if wait < 0 || wait > sqsMaxWait {
		return nil, sqsInvalid("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", in.WaitTimeSeconds)
	}
	deadline := time.Now().Add(wait)
	for {
		msgs, changed, err := s.receiveOnce(in)
		if err != nil || len(msgs) > 0 || !time.Now().Before(deadline) {
			return map[string]any{"Messages": msgs}, err
		}
		s.mu.Lock()
		polling := s.polling
		s.mu.Unlock()
		if polling != nil {
			polling()
		}
		// Long poll: wake on a new message, or now and then for a
		// visibility timeout running out.
		select {
		case <-changed:
		case <-time.After(min(100*time.Millisecond, time.Until(deadline))):
		case <-ctx.Done():
			return map[string]any{"Messages": msgs}, nil
		}
	}
}

// receiveOnce takes the visible messages in send order. On a FIFO queue a
// group with a message in flight delivers nothing more until that message is
// deleted or becomes visible again, so one group is handled in order, one
// batch at a time.
func (s *SQSServer) receiveOnce(in sqsReceiveInput) ([]sqsReceivedMessage, <-chan struct{}, *sqsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueLocked(in.QueueURL)
	if err != nil {
		return nil, nil, err
	}
	visibility := q.def.VisibilityTimeout
	if in.VisibilityTimeout != nil {
		if *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
			return nil, nil, sqsInvalid("Value %d for parameter VisibilityTimeout is invalid.", *in.VisibilityTimeout)
		}
		visibility = time.Duration(*in.VisibilityTimeout) * time.Second
	}
	now := s.now()
	blocked := map[string]bool{}
	if q.def.IsFIFO() {
		for _, m := range q.messages {
			if m.inFlight && now.Before(m.visibleAt) {
				blocked[m.GroupID] = true
			}
		}
	}
	want := sqsWantedAttributes(append(in.AttributeNames, in.MessageSystemAttributeNames...))
	var out []sqsReceivedMessage
	for _, m := range q.messages {
		if len(out) == in.MaxNumberOfMessages {
			break
		}
		if now.Before(m.visibleAt) || blocked[m.GroupID] {
			continue
		}
		delete(s.handles, m.ReceiptHandle)
		m.ReceiptHandle = sqsRandomHandle()
		s.handles[m.ReceiptHandle] = m
		m.ReceiveCount++
		if m.FirstReceivedAt.IsZero() {
			m.FirstReceivedAt = now
		}
		m.inFlight, m.visibleAt = true, now.Add(visibility)
		out = append(out, sqsReceivedMessage{
			MessageID: m.MessageID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body,
			Attributes: sqsAttributes(m.SQSMessage, want),
		})
	}
	return out, s.changed, nil
}

// sqsWantedAttributes is the set of system attributes asked for; "All"
// stands for every one.
func sqsWantedAttributes(names []string) func(string) bool {
	return func(name string) bool {
		return slices.Contains(names, "All") || slices.Contains(names, name)
	}
}

func sqsAttributes(m SQSMessage, want func(string) bool) map[string]string {
	all := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
		"ApproximateFirstReceiveTimestamp": sqsMillis(m.FirstReceivedAt),
		"SentTimestamp":                    sqsMillis(m.SentAt),
		"SenderId":                         m.SenderID,
	}
	if m.SequenceNumber != "" {
		all["MessageGroupId"] = m.GroupID
		all["MessageDeduplicationId"] = m.DeduplicationID
		all["SequenceNumber"] = m.SequenceNumber
	}
	out := map[string]string{}
	for k, v := range all {
		if want(k) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

type sqsDeleteInput struct {
	QueueURL      string `json:"QueueUrl"`
	ReceiptHandle string
}

func (s *SQSServer) delete(in sqsDeleteInput) *sqsError {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, m, err := s.receivedLocked(in.QueueURL, in.ReceiptHandle)
	if err != nil {
		return err
	}
	delete(s.handles, in.ReceiptHandle)
	q.messages = slices.DeleteFunc(q.messages, func(x *sqsStored) bool { return x == m })
	return nil
}

// receivedLocked finds the queue and the message a receipt handle names.
func (s *SQSServer) receivedLocked(queueURL, receiptHandle string) (*sqsQueueState, *sqsStored, *sqsError) {
	q, err := s.queueLocked(queueURL)
	if err != nil {
		return nil, nil, err
	}
	if receiptHandle == "" {
		return nil, nil, sqsMissing("ReceiptHandle")
	}
	m := s.handles[receiptHandle]
	if m == nil || m.Queue != q.def.Name {
		return nil, nil, &sqsError{http.StatusBadRequest, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle is invalid."}
	}
	return q, m, nil
}

type sqsVisibilityInput struct {
	QueueURL          string `json:"QueueUrl"`
	ReceiptHandle     string
	VisibilityTimeout *int
}

// changeVisibility makes a received message visible again after the given
// seconds from now (0: at once), as a consumer does to retry sooner.
func (s *SQSServer) changeVisibility(in sqsVisibilityInput) *sqsError {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, err := s.receivedLocked(in.QueueURL, in.ReceiptHandle)
	switch {
	case err != nil:
		return err
	case in.VisibilityTimeout == nil:
		return sqsMissing("VisibilityTimeout")
	case *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200:
		return sqsInvalid("VisibilityTimeout %d is not between 0 and 43200", *in.VisibilityTimeout)
	}
	if !m.inFlight {
		return &sqsError{http.StatusBadRequest, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight."}
	}
	m.visibleAt = s.now().Add(time.Duration(*in.VisibilityTimeout) * time.Second)
	return nil
}

func sqsDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sqsRandomID is a random version 4 UUID, the form of SQS message ids.
func sqsRandomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func sqsRandomHandle() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
