package awstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// awsError is an error as the AWS JSON protocols carry it: an HTTP status,
// the modelled error's name in __type, and a message.
type awsError struct {
	status  int
	typ     string
	message string
}

// jsonService serves an API of the AWS JSON 1.1 protocol: a POST whose
// X-Amz-Target header is target + operation, SigV4-signed for service.
type jsonService struct {
	target, service string
	dispatch        func(op string, r *http.Request) (any, *awsError)
}

func (j jsonService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), j.target)
	var (
		out any
		err *awsError
	)
	switch {
	case r.Method != http.MethodPost || !ok:
		err = &awsError{http.StatusBadRequest, "UnknownOperationException", "expected a POST with X-Amz-Target " + j.target + "<Operation>"}
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1"):
		err = &awsError{http.StatusBadRequest, "SerializationException", fmt.Sprintf("Content-Type %q is not application/x-amz-json-1.1", r.Header.Get("Content-Type"))}
	default:
		if err = checkSigned(r.Header.Get("Authorization"), j.service); err == nil {
			out, err = j.dispatch(op, r)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "00000000-0000-4000-8000-000000000000")
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", err.typ)
		w.WriteHeader(err.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": err.typ, "message": err.message})
		return
	}
	b, jerr := json.Marshal(out)
	if jerr != nil {
		http.Error(w, jerr.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// checkSigned refuses a request that is not SigV4-signed for service. The
// signature itself is not checked: the stand-ins trust loopback callers.
func checkSigned(auth, service string) *awsError {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !ok {
		return &awsError{http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	scope := strings.Split(strings.SplitN(cred, ",", 2)[0], "/")
	if len(scope) != 5 || scope[3] != service || scope[4] != "aws4_request" {
		return &awsError{http.StatusForbidden, "InvalidSignatureException", fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service)}
	}
	return nil
}
