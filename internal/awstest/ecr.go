package awstest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ECRAccountID is the registry the ECR stand-in uses when a request names
// none, as ECR uses the caller's account.
const ECRAccountID = "111122223333"

// ECR's limits that the stand-in enforces.
const (
	ecrTarget            = "AmazonEC2ContainerRegistry_V20150921."
	ecrDefaultMaxResults = 100  // page size when maxResults is not given
	ecrMaxResults        = 1000 // the largest page ECR serves
	ecrMaxBody           = 1 << 20
)

// ecrRepoName is ECR's rule for repository names.
var ecrRepoName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ECRServer speaks ECR's AWS JSON 1.1 protocol (X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.<Operation>) on loopback for
// ListImages and DescribeImages, paging with nextToken and maxResults as ECR
// does, over repositories held in memory that a test or the demo fills with
// PushTag and empties with DeleteTag. Point the real SDK client at URL
// through AWS_ENDPOINT_URL_ECR or ecr.Options.BaseEndpoint.
type ECRServer struct {
	server *httptest.Server

	mu       sync.Mutex
	now      func() time.Time
	repos    map[string]*ecrRepo // by registry id + "/" + name
	requests map[string]int      // by operation
}

// ecrRepo is one repository: its images in push order.
type ecrRepo struct {
	registryID, name string
	images           []*ecrImage
}

type ecrImage struct {
	digest   string
	tags     []string
	pushedAt time.Time
	size     int64
}

// NewECRServer starts an ECR stand-in with no repositories. Close it when done.
func NewECRServer() *ECRServer {
	s := &ECRServer{now: time.Now, repos: map[string]*ecrRepo{}, requests: map[string]int{}}
	s.server = httptest.NewServer(jsonService{target: ecrTarget, service: "ecr", dispatch: s.dispatch})
	return s
}

// URL is the base endpoint of the stand-in.
func (s *ECRServer) URL() string { return s.server.URL }

// Close stops the stand-in.
func (s *ECRServer) Close() { s.server.Close() }

// SetClock replaces the clock that stamps imagePushedAt.
func (s *ECRServer) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Requests is how many requests of the operation (ListImages, say) the
// stand-in has answered, errors included.
func (s *ECRServer) Requests(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[operation]
}

// CreateRepository creates an empty repository, if it does not exist. It
// panics on a name ECR would refuse, as a test setup mistake.
func (s *ECRServer) CreateRepository(registryID, repository string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repoLocked(registryID, repository)
}

// PushTag pushes an image tagged tag, creating the repository if needed, and
// returns its digest. The digest is derived from the repository and tag, so
// pushing the same tag again changes nothing; a tag on another image moves.
func (s *ECRServer) PushTag(registryID, repository, tag string) string {
	return s.PushImage(registryID, repository, tag, registryID+"/"+repository+":"+tag)
}

// PushImage pushes an image whose manifest is content, tagged tag, and
// returns its digest. Other content under a tag already pushed moves the
// tag to a new digest, as re-pushing a mutable tag does.
func (s *ECRServer) PushImage(registryID, repository, tag, content string) string {
	sum := sha256.Sum256([]byte(content))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(registryID, repository)
	for _, img := range r.images {
		if img.digest == digest {
			return digest
		}
	}
	r.untagLocked(tag)
	r.images = append(r.images, &ecrImage{digest: digest, tags: []string{tag}, pushedAt: s.now(), size: int64(len(tag)) * 1024})
	return digest
}

// DeleteTag removes tag from the repository, as BatchDeleteImage by tag
// does: the image goes when it was its last tag. It reports whether the tag
// existed.
func (s *ECRServer) DeleteTag(registryID, repository, tag string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[registryID+"/"+repository]
	return r != nil && r.untagLocked(tag)
}

func (s *ECRServer) repoLocked(registryID, name string) *ecrRepo {
	if !ecrRepoName.MatchString(name) || len(name) < 2 || len(name) > 256 {
		panic(fmt.Sprintf("awstest: invalid ECR repository name %q", name))
	}
	key := registryID + "/" + name
	r := s.repos[key]
	if r == nil {
		r = &ecrRepo{registryID: registryID, name: name}
		s.repos[key] = r
	}
	return r
}

func (r *ecrRepo) untagLocked(tag string) bool {
	for i, img := range r.images {
		for j, t := range img.tags {
			if t != tag {
				continue
			}
			img.tags = append(img.tags[:j:j], img.tags[j+1:]...)
			if len(img.tags) == 0 {
				r.images = append(r.images[:i:i], r.images[i+1:]...)
			}
			return true
		}
	}
	return false
}

// awsError is an ECR error as AWS JSON 1.1 carries it: the exception name in
// X-Amzn-ErrorType and __type, and a message.
func ecrInvalid(format string, args ...any) *awsError {
	return &awsError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, args...)}
}

// ecrListInput holds the members of ListImages and DescribeImages requests.
type ecrListInput struct {
	RegistryID     *string `json:"registryId"`
	RepositoryName *string `json:"repositoryName"`
	MaxResults     *int    `json:"maxResults"`
	NextToken      *string `json:"nextToken"`
	Filter         *struct {
		TagStatus string `json:"tagStatus"`
	} `json:"filter"`
	ImageIDs []ecrImageID `json:"imageIds"`
}

type ecrImageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (s *ECRServer) dispatch(op string, r *http.Request) (any, *awsError) {
	s.mu.Lock()
	s.requests[op]++
	s.mu.Unlock()
	var in ecrListInput
	switch op {
	case "ListImages", "DescribeImages":
		if err := ecrDecode(r, &in); err != nil {
			return nil, &awsError{http.StatusBadRequest, "SerializationException", "malformed request body: " + err.Error()}
		}
	default:
		return nil, &awsError{http.StatusBadRequest, "UnknownOperationException", op + " is not an operation this ECR stand-in serves"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, err := s.lookupLocked(in)
	if err != nil {
		return nil, err
	}
	if op == "ListImages" {
		return listImages(op, repo, in)
	}
	return describeImages(op, repo, in)
}

// lookupLocked finds the request's repository, or fails as ECR does.
func (s *ECRServer) lookupLocked(in ecrListInput) (*ecrRepo, *awsError) {
	name := ecrDeref(in.RepositoryName)
	if name == "" {
		return nil, ecrInvalid("1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null")
	}
	registryID := ecrDeref(in.RegistryID)
	if registryID == "" {
		registryID = ECRAccountID
	}
	r := s.repos[registryID+"/"+name]
	if r == nil {
		return nil, &awsError{http.StatusBadRequest, "RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, registryID)}
	}
	return r, nil
}

// ecrEntry is one tag (or untagged digest) of a listing, in a stable order
// that paging walks through.
type ecrEntry struct {
	img *ecrImage
	tag string
}

// entries lists the repository as ListImages counts it: one entry per tag,
// and one per untagged image, filtered by tagStatus.
func (r *ecrRepo) entries(tagStatus string, perTag bool) ([]ecrEntry, *awsError) {
	switch tagStatus {
	case "", "ANY", "TAGGED", "UNTAGGED":
	default:
		return nil, ecrInvalid("Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, ANY, UNTAGGED]'")
	}
	var out []ecrEntry
	for _, img := range r.images {
		tagged := len(img.tags) > 0
		if (tagStatus == "TAGGED" && !tagged) || (tagStatus == "UNTAGGED" && tagged) {
			continue
		}
		if !perTag || !tagged {
			out = append(out, ecrEntry{img: img})
			continue
		}
		for _, t := range img.tags {
			out = append(out, ecrEntry{img: img, tag: t})
		}
	}
	return out, nil
}

// page cuts a listing into the page that nextToken and maxResults select,
// and returns the token of the next page ("" on the last).
func page[T any](op string, r *ecrRepo, in ecrListInput, all []T) ([]T, string, *awsError) {
	limit := ecrDefaultMaxResults
	if in.MaxResults != nil {
		limit = *in.MaxResults
		if limit < 1 || limit > ecrMaxResults {
			return nil, "", ecrInvalid("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000 and greater than or equal to 1", limit)
		}
	}
	start := 0
	if tok := ecrDeref(in.NextToken); tok != "" {
		var ok bool
		if start, ok = ecrDecodeToken(op, r, tok); !ok || start > len(all) {
			return nil, "", ecrInvalid("Invalid NextToken")
		}
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = ecrEncodeToken(op, r, end)
	}
	return all[start:end], next, nil
}

// The token names the operation and repository it belongs to, so that a
// token from another listing is refused as ECR refuses it.
func ecrEncodeToken(op string, r *ecrRepo, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + "|" + r.registryID + "/" + r.name + "|" + strconv.Itoa(offset)))
}

func ecrDecodeToken(op string, r *ecrRepo, tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	prefix := op + "|" + r.registryID + "/" + r.name + "|"
	rest, ok := strings.CutPrefix(string(b), prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

func listImages(op string, r *ecrRepo, in ecrListInput) (any, *awsError) {
	status := ""
	if in.Filter != nil {
		status = in.Filter.TagStatus
	}
	all, err := r.entries(status, true)
	if err != nil {
		return nil, err
	}
	entries, next, err := page(op, r, in, all)
	if err != nil {
		return nil, err
	}
	ids := make([]ecrImageID, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, ecrImageID{ImageDigest: e.img.digest, ImageTag: e.tag})
	}
	return ecrListOutput{ImageIDs: ids, NextToken: next}, nil
}

type ecrListOutput struct {
	ImageIDs  []ecrImageID `json:"imageIds"`
	NextToken string       `json:"nextToken,omitempty"`
}

type ecrImageDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          float64  `json:"imagePushedAt"` // epoch seconds, as AWS JSON sends timestamps
	ImageManifestMediaType string   `json:"imageManifestMediaType"`
	ArtifactMediaType      string   `json:"artifactMediaType"`
}

type ecrDescribeOutput struct {
	ImageDetails []ecrImageDetail `json:"imageDetails"`
	NextToken    string           `json:"nextToken,omitempty"`
}

func describeImages(op string, r *ecrRepo, in ecrListInput) (any, *awsError) {
	imgs, next, err := r.describeSelection(op, in)
	if err != nil {
		return nil, err
	}
	out := ecrDescribeOutput{NextToken: next, ImageDetails: []ecrImageDetail{}}
	for _, img := range imgs {
		out.ImageDetails = append(out.ImageDetails, r.detail(img))
	}
	return out, nil
}

// describeSelection returns the images a DescribeImages request names, or
// else the page of all images (filtered by tagStatus) it asks for.
func (r *ecrRepo) describeSelection(op string, in ecrListInput) ([]*ecrImage, string, *awsError) {
	if len(in.ImageIDs) == 0 {
		status := ""
		if in.Filter != nil {
			status = in.Filter.TagStatus
		}
		all, err := r.entries(status, false)
		if err != nil {
			return nil, "", err
		}
		entries, next, err := page(op, r, in, all)
		imgs := make([]*ecrImage, 0, len(entries))
		for _, e := range entries {
			imgs = append(imgs, e.img)
		}
		return imgs, next, err
	}
	// ECR refuses paging a list of named images.
	if in.MaxResults != nil || in.NextToken != nil {
		return nil, "", ecrInvalid("Cannot specify maxResults or nextToken when imageIds is specified")
	}
	var imgs []*ecrImage
	for _, id := range in.ImageIDs {
		img := r.find(id)
		if img == nil {
			return nil, "", &awsError{http.StatusBadRequest, "ImageNotFoundException",
				fmt.Sprintf("The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'", id.ImageDigest, id.ImageTag, r.name, r.registryID)}
		}
		imgs = append(imgs, img)
	}
	return imgs, "", nil
}

// find returns the image that id names by digest, tag or both.
func (r *ecrRepo) find(id ecrImageID) *ecrImage {
	if id.ImageDigest == "" && id.ImageTag == "" {
		return nil
	}
	for _, img := range r.images {
		if (id.ImageDigest == "" || img.digest == id.ImageDigest) && (id.ImageTag == "" || slices.Contains(img.tags, id.ImageTag)) {
			return img
		}
	}
	return nil
}

func (r *ecrRepo) detail(img *ecrImage) ecrImageDetail {
	return ecrImageDetail{
		RegistryID:             r.registryID,
		RepositoryName:         r.name,
		ImageDigest:            img.digest,
		ImageTags:              append([]string(nil), img.tags...),
		ImageSizeInBytes:       img.size,
		ImagePushedAt:          float64(img.pushedAt.UnixMilli()) / 1000,
		ImageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
		ArtifactMediaType:      "application/vnd.oci.image.config.v1+json",
	}
}

func ecrDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ecrDecode reads the whole request body before decoding it.
func ecrDecode(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, ecrMaxBody))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
