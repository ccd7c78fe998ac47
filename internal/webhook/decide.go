package webhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// decision is what to answer a delivery and, for an accepted push, what to send.
type decision struct {
	code            int
	resp            Response
	event, delivery string
	send            *outgoing
}

type outgoing struct {
	message      queue.Reconcile
	group, dedup string
}

func reject(code int, format string, args ...any) decision {
	return decision{code: code, resp: Response{Status: StatusRejected, Reason: fmt.Sprintf(format, args...)}}
}

func ignore(reason, revision string) decision {
	return decision{code: http.StatusOK, resp: Response{Status: StatusIgnored, Reason: reason, Revision: revision}}
}

// decide verifies and reads a delivery and decides what to do with it,
// without side effects. The signature is checked before anything the
// payload says is looked at.
func (h *Handler) decide(req events.LambdaFunctionURLRequest) decision {
	if req.RequestContext.HTTP.Method != http.MethodPost {
		return reject(http.StatusMethodNotAllowed, "method %s is not allowed: GitHub delivers webhooks with POST", req.RequestContext.HTTP.Method)
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return reject(http.StatusBadRequest, "body is marked base64-encoded but is not: %v", err)
		}
		body = b
	}
	signature := header(req.Headers, github.SignatureHeader)
	if signature == "" && header(req.Headers, github.SHA1SignatureHeader) != "" {
		return reject(http.StatusUnauthorized, "%s is missing; the SHA-1 %s alone is refused", github.SignatureHeader, github.SHA1SignatureHeader)
	}
	payload, err := h.verifier.Verify(header(req.Headers, "Content-Type"), signature, body)
	switch {
	case errors.Is(err, github.ErrSignature):
		return reject(http.StatusUnauthorized, "%v", err)
	case err != nil:
		return reject(http.StatusBadRequest, "%v", err)
	}
	event, delivery := header(req.Headers, github.EventHeader), header(req.Headers, github.DeliveryHeader)
	d := h.decideEvent(event, delivery, payload)
	d.event, d.delivery = event, delivery
	return d
}

func (h *Handler) decideEvent(event, delivery string, payload []byte) decision {
	switch event {
	case "":
		return reject(http.StatusBadRequest, "%s header is missing", github.EventHeader)
	case github.EventPing:
		ping, err := github.ParsePing(payload)
		if err != nil {
			return reject(http.StatusBadRequest, "%v", err)
		}
		return ignore(fmt.Sprintf("ping from hook %d: the webhook reaches Sluice", ping.HookID), "")
	case github.EventPush:
		if delivery == "" {
			// The delivery id is the deduplication id; without it a
			// redelivery could not be told apart.
			return reject(http.StatusBadRequest, "%s header is missing", github.DeliveryHeader)
		}
		push, err := github.ParsePush(payload)
		if err != nil {
			return reject(http.StatusBadRequest, "%v", err)
		}
		return h.decidePush(push, delivery)
	default:
		return ignore(fmt.Sprintf("event %q is not handled: Sluice acts on push", event), "")
	}
}

func (h *Handler) decidePush(p github.Push, delivery string) decision {
	if !h.isConfigRepo(p.Repository) {
		return ignore(fmt.Sprintf("push to %s, not to the config repository %s", describeRepo(p.Repository), h.repo), p.After)
	}
	switch {
	case p.Tag != "":
		return ignore(fmt.Sprintf("tag push %s: Sluice follows branch %s", p.Ref, h.branch), p.After)
	case p.Branch == "":
		return ignore(fmt.Sprintf("push to %s, which is not a branch", p.Ref), p.After)
	case p.Deleted:
		return ignore(fmt.Sprintf("branch %s was deleted", p.Branch), "")
	case p.Branch != h.branch:
		return ignore(fmt.Sprintf("push to branch %s: Sluice follows branch %s", p.Branch, h.branch), p.After)
	}
	return decision{
		code: http.StatusAccepted,
		resp: Response{Status: StatusQueued, Reason: fmt.Sprintf("push to %s@%s", h.repo, h.branch), Revision: p.After},
		send: &outgoing{
			message: queue.Reconcile{
				Repository: h.repo, Branch: h.branch, Revision: p.After,
				Reason: queue.ReasonPush, Kustomizations: []string{},
			},
			group: queue.GroupID(h.repo, h.branch),
			dedup: queue.PushDedupID(delivery),
		},
	}
}

// isConfigRepo reports whether any URL of the pushed repository names the
// config repository: SLUICE_GIT_URL may be the clone, SSH, git or web form.
func (h *Handler) isConfigRepo(r github.Repository) bool {
	for _, u := range r.URLs() {
		if id, err := repoid.Parse(u); err == nil && id == h.repo {
			return true
		}
	}
	return false
}

func describeRepo(r github.Repository) string {
	for _, u := range r.URLs() {
		if id, err := repoid.Parse(u); err == nil {
			return id
		}
	}
	return "a repository without a usable URL"
}

// header looks name up without regard to case: Lambda Function URLs
// lower-case header names, and tests or other front ends may not.
func header(h map[string]string, name string) string {
	if v, ok := h[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
