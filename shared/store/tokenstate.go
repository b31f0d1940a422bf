package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TokenRef names what a token's validity depends on beyond its signature.
type TokenRef struct {
	TokenID   string
	ClientID  string
	PartnerID string
	// OrganisationID is set for the tokens of an organisation's client.
	OrganisationID string
	// IssuedAt is the token's iat: a principal created after it (a client
	// id deleted and taken again) does not revive the token.
	IssuedAt time.Time
}

// TokenState is what a token's validity depends on beyond its signature
// and claims.
type TokenState struct {
	// Revoked is true when the token id was revoked.
	Revoked bool
	// Active is true when the token's principal exists and is enabled and,
	// for a client's token, its partner account, its organisation and every
	// ancestor of it are too: disabling any of them stops the token at once.
	Active bool
}

// TokenState reads, consistently, the revocation record of the token and the
// enabled state of everything its validity depends on: one BatchGetItem for
// a partner's token (patterns 1 and 8); for a client's token the same batch
// also holds the partner account and the organisation, and a second one its
// ancestors when it has any (pattern 19). Every authenticated request makes
// this read.
//
// Errors: ErrUnavailable when DynamoDB throttles; missing items are not errors (the state says what is missing).
func (t *Table) TokenState(ctx context.Context, ref TokenRef) (TokenState, error) {
	if ref.OrganisationID != "" && ref.ClientID == ref.PartnerID {
		// A partner account has no organisation: claims that say otherwise
		// do not fit the principal, whoever signed them.
		return TokenState{}, nil
	}
	keys := []map[string]types.AttributeValue{revocationKey(ref.TokenID), principalKey(ref.ClientID)}
	if ref.OrganisationID != "" {
		keys = append(keys, principalKey(ref.PartnerID), orgKey(ref.PartnerID, ref.OrganisationID))
	}
	hint := t.paths.hint(ref.PartnerID, ref.OrganisationID)
	found, err := t.enabledItems(ctx, append(keys, orgKeys(ref.PartnerID, hint)...))
	if err != nil {
		return TokenState{}, fmt.Errorf("token state: %w", err)
	}
	_, revoked := found[keyString(keys[0])]
	state := TokenState{Revoked: revoked}
	if !found[keyString(keys[1])].owns(ref) {
		return state, nil
	}
	if ref.OrganisationID == "" {
		state.Active = true
		return state, nil
	}
	state.Active, err = t.chainActive(ctx, ref.PartnerID, found, keys[1:], hint)
	if err != nil {
		return TokenState{}, fmt.Errorf("token state: %w", err)
	}
	return state, nil
}

// ClientChainActive reports whether a client of organisation orgID may get
// a token: its partner account, orgID and every ancestor of orgID must be
// enabled. It reads consistently, with at most two BatchGetItem calls.
//
// Errors: ErrUnavailable when DynamoDB throttles; a missing partner, organisation or ancestor is not an error (false).
func (t *Table) ClientChainActive(ctx context.Context, partnerID, orgID string) (bool, error) {
	keys := []map[string]types.AttributeValue{principalKey(partnerID), orgKey(partnerID, orgID)}
	hint := t.paths.hint(partnerID, orgID)
	found, err := t.enabledItems(ctx, append(keys, orgKeys(partnerID, hint)...))
	if err != nil {
		return false, fmt.Errorf("client chain of %s: %w", orgID, err)
	}
	active, err := t.chainActive(ctx, partnerID, found, keys, hint)
	if err != nil {
		return false, fmt.Errorf("client chain of %s: %w", orgID, err)
	}
	return active, nil
}

// chainActive checks that every item of keys was found enabled, keys' last
// being the organisation, then checks the organisation's ancestors. found
// holds, besides keys, the ancestors of hint, the path remembered for the
// organisation (pathHints) when the batch was built: read in the same
// batch, so when the organisation's path is still that one no second read
// is needed. Otherwise (first sight, or the organisation moved) the
// ancestors are read now and the path remembered. It is the hint the batch
// was built from that counts, not what the hints say now: another request
// may have remembered the path meanwhile, and found does not hold its
// ancestors.
func (t *Table) chainActive(ctx context.Context, partnerID string, found map[string]enabledItem, keys []map[string]types.AttributeValue, hint []string) (bool, error) {
	for _, k := range keys {
		if !found[keyString(k)].enabled {
			return false, nil
		}
	}
	org := found[keyString(keys[len(keys)-1])]
	if len(org.Path) == 0 {
		return true, nil
	}
	ancestors := orgKeys(partnerID, org.Path)
	if !slices.Equal(hint, org.Path) {
		more, err := t.enabledItems(ctx, ancestors)
		if err != nil {
			return false, err
		}
		found = more
		t.paths.remember(partnerID, org.OrganisationID, org.Path)
	}
	for _, k := range ancestors {
		if !found[keyString(k)].enabled {
			return false, nil
		}
	}
	return true, nil
}

// pathHints remembers the ancestor path of organisations whose clients'
// tokens this process checked, so the ancestors are read in the same batch
// as the organisation (client token: two reads, not three). A hint is only
// ever a guess of which items to read: the organisation item read in the
// same batch says whether it was right. Bounded: past maxPathHints
// organisations it starts afresh.
//
// It also remembers the partner and organisation of clients whose
// credentials this process read, so that a client's next credential read
// brings its chain in the same batch (GetCredential). Again only a guess:
// the client's item read in that batch says whether it was right.
type pathHints struct {
	mu     sync.Mutex
	paths  map[string][]string
	owners map[string]owner
}

// owner is the partner and organisation of a client.
type owner struct{ partnerID, orgID string }

const maxPathHints = 10000

func (h *pathHints) key(partnerID, orgID string) string { return partnerID + "\x00" + orgID }

// hint is the remembered ancestor path of orgID, root first (none when
// orgID is empty or unknown).
func (h *pathHints) hint(partnerID, orgID string) []string {
	if orgID == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.paths[h.key(partnerID, orgID)]
}

// orgKeys are the keys of the organisations ids of one partner.
func orgKeys(partnerID string, ids []string) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = orgKey(partnerID, id)
	}
	return keys
}

// owner is the remembered partner and organisation of clientID.
func (h *pathHints) owner(clientID string) (owner, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o, ok := h.owners[clientID]
	return o, ok
}

func (h *pathHints) rememberOwner(clientID string, o owner) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.owners == nil || len(h.owners) >= maxPathHints {
		h.owners = map[string]owner{}
	}
	h.owners[clientID] = o
}

func (h *pathHints) remember(partnerID, orgID string, path []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paths == nil || len(h.paths) >= maxPathHints {
		h.paths = map[string][]string{}
	}
	h.paths[h.key(partnerID, orgID)] = slices.Clone(path)
}

// enabledItem is the part of an item the state checks read.
type enabledItem struct {
	PK             string    `dynamodbav:"pk"`
	SK             string    `dynamodbav:"sk"`
	Enabled        *bool     `dynamodbav:"enabled"`
	Path           []string  `dynamodbav:"path"`
	PartnerID      string    `dynamodbav:"partner_id"`
	OrganisationID string    `dynamodbav:"organisation_id"`
	CreatedAt      time.Time `dynamodbav:"created_at"`
	enabled        bool
}

// owns reports whether the principal item e is the one the token ref was
// issued to: enabled, of the same partner and organisation, and created no
// later than the token (iat has whole seconds, so the creation time is
// compared at that precision).
func (e enabledItem) owns(ref TokenRef) bool {
	return e.enabled && e.PartnerID == ref.PartnerID && e.OrganisationID == ref.OrganisationID &&
		!e.CreatedAt.Truncate(time.Second).After(ref.IssuedAt)
}

// enabledItems batch-reads keys and returns the items found, by keyString.
func (t *Table) enabledItems(ctx context.Context, keys []map[string]types.AttributeValue) (map[string]enabledItem, error) {
	items, err := t.batchGet(ctx, keys, "pk, sk, enabled, #path, partner_id, organisation_id, created_at", map[string]string{"#path": "path"})
	if err != nil {
		return nil, err
	}
	found := make(map[string]enabledItem, len(items))
	for _, item := range items {
		e, err := decodeEnabled(item)
		if err != nil {
			return nil, err
		}
		found[e.PK+"\x00"+e.SK] = e
	}
	return found, nil
}

// decodeEnabled decodes the part of item the state checks read.
func decodeEnabled(item map[string]types.AttributeValue) (enabledItem, error) {
	var e enabledItem
	if err := attributevalue.UnmarshalMap(item, &e); err != nil {
		return enabledItem{}, fmt.Errorf("decode: %w", err)
	}
	e.enabled = e.Enabled != nil && *e.Enabled
	return e, nil
}

func keyString(key map[string]types.AttributeValue) string {
	pk, _ := key[AttrPK].(*types.AttributeValueMemberS)
	sk, _ := key[AttrSK].(*types.AttributeValueMemberS)
	return pk.Value + "\x00" + sk.Value
}
