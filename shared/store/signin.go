package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The OAuth 2.0 grant types a principal may hold (Principal.GrantTypes).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Defaults of a client's refresh-token lifetimes, in seconds.
const (
	DefaultRefreshAbsoluteLifetime = 30 * 86400
	DefaultRefreshIdleLifetime     = 7 * 86400
)

// Grants returns the grant types of p: a partner always has
// client_credentials only; a client stored without grant_types too.
func (p Principal) Grants() []string {
	if p.Kind == KindPartner || len(p.GrantTypes) == 0 {
		return []string{GrantClientCredentials}
	}
	return slices.Clone(p.GrantTypes)
}

// HasGrant reports whether p may use grant type g.
func (p Principal) HasGrant(g string) bool { return slices.Contains(p.Grants(), g) }

// RefreshLifetimes returns p's refresh-token absolute and idle lifetimes,
// defaults applied.
func (p Principal) RefreshLifetimes() (absolute, idle time.Duration) {
	abs, id := p.RefreshTokenAbsoluteLifetime, p.RefreshTokenIdleLifetime
	if abs <= 0 {
		abs = DefaultRefreshAbsoluteLifetime
	}
	if id <= 0 {
		id = min(DefaultRefreshIdleLifetime, abs)
	}
	return time.Duration(abs) * time.Second, time.Duration(id) * time.Second
}

// ErrGone is the error (wrapped) of a sign-in item that does not exist, has
// expired or was already used: a session, a code, a refresh token.
var ErrGone = errors.New("store: sign-in item not found, expired or used")

// ErrUsed is the error (wrapped) of a code claimed by an exchange before,
// or of a federation flow whose state came back before (ClaimFlow).
var ErrUsed = errors.New("store: authorization code already used")

// ErrReused is the error (wrapped) of a refresh token that was already
// rotated, or of a family revoked meanwhile: the caller revokes the family.
var ErrReused = errors.New("store: refresh token reused")

const (
	typeSession    = "signin_session"
	typeCode       = "auth_code"
	typeUsedCode   = "auth_code_used"
	typeRefresh    = "refresh_token"
	typeFamily     = "refresh_family"
	typeSubjectRec = "signin_subject"
)

// Key builders of the sign-in items (patterns 21-26). Codes and refresh
// tokens are keyed by the hash of their value, never the value.

func sessionKey(id string) map[string]types.AttributeValue {
	return keyOf("SESSION#"+id, "SESSION")
}

func codeKey(hash string) map[string]types.AttributeValue { return keyOf("CODE#"+hash, "CODE") }

func usedCodeKey(hash string) map[string]types.AttributeValue {
	return keyOf("CODE#"+hash, "USED")
}

func refreshKey(hash string) map[string]types.AttributeValue {
	return keyOf("REFRESH#"+hash, "REFRESH")
}

func familyKey(id string) map[string]types.AttributeValue {
	return keyOf("RFAMILY#"+id, "RFAMILY")
}

func subjectKey(partnerID, orgID, sub string) map[string]types.AttributeValue {
	return keyOf(orgPK(partnerID), "SUBJECT#"+orgID+"#"+sub)
}

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// Session is a browser's sign-in session on the hosted page. The cookie
// holds only its sealed id.
type Session struct {
	ID        string `dynamodbav:"session_id"`
	PartnerID string `dynamodbav:"partner_id,omitempty"`
	// Provider and IdentityID name who signed in ("" before anyone did).
	Provider   string    `dynamodbav:"provider,omitempty"`
	IdentityID string    `dynamodbav:"identity_id,omitempty"`
	AuthTime   time.Time `dynamodbav:"auth_time,omitempty"`
	// Claims are the identity's claims (JSON) when its provider cannot
	// produce them again without the user (an upstream provider's).
	Claims    string    `dynamodbav:"claims,omitempty"`
	CreatedAt time.Time `dynamodbav:"created_at"`
	ExpiresAt time.Time `dynamodbav:"-"`
}

// Authenticated reports whether someone signed in in s.
func (s Session) Authenticated() bool { return s.IdentityID != "" }

type sessionItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	Session
}

// PutSession stores s (pattern 21); a new id must not exist yet.
func (t *Table) PutSession(ctx context.Context, s Session) error {
	return t.putSignIn(ctx, "put session", sessionKey(s.ID), sessionItem{
		Type: typeSession, Version: 1, Expires: s.ExpiresAt.Unix(), Session: s,
	}, true)
}

// GetSession reads session id consistently; a missing or expired one gives
// ErrGone.
func (t *Table) GetSession(ctx context.Context, id string) (Session, error) {
	var it sessionItem
	if err := t.getSignIn(ctx, sessionKey(id), &it, func() int64 { return it.Expires }); err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	it.Session.ExpiresAt = time.Unix(it.Expires, 0).UTC()
	return it.Session, nil
}

// DeleteSession removes session id (a new one replaces it at sign-in).
func (t *Table) DeleteSession(ctx context.Context, id string) error {
	if _, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.name), Key: sessionKey(id)}); err != nil {
		return fmt.Errorf("delete session: %w", unavailable(err))
	}
	return nil
}

// Grant is what a sign-in granted a client: the binding of an
// authorization code, and of a refresh-token family.
type Grant struct {
	ClientID       string    `dynamodbav:"client_id" json:"client_id"`
	PartnerID      string    `dynamodbav:"partner_id" json:"partner_id"`
	OrganisationID string    `dynamodbav:"organisation_id" json:"organisation_id"`
	RedirectURI    string    `dynamodbav:"redirect_uri,omitempty" json:"redirect_uri,omitempty"`
	CodeChallenge  string    `dynamodbav:"code_challenge,omitempty" json:"code_challenge,omitempty"`
	Nonce          string    `dynamodbav:"nonce,omitempty" json:"nonce,omitempty"`
	Scopes         []string  `dynamodbav:"scopes" json:"scopes"`
	AuthTime       time.Time `dynamodbav:"auth_time" json:"auth_time"`
	// MaxAgeAsked: auth_time was asked for (max_age), so the ID token
	// carries it.
	MaxAgeAsked bool   `dynamodbav:"max_age_asked,omitempty" json:"max_age_asked,omitempty"`
	Subject     string `dynamodbav:"subject" json:"subject"`
	Provider    string `dynamodbav:"provider" json:"provider"`
	// Claims are the end user's claims (profile, email, ...), JSON.
	Claims string `dynamodbav:"claims,omitempty" json:"claims,omitempty"`
	// Methods are the authentication methods (minted tokens: ["api"]).
	Methods []string `dynamodbav:"methods,omitempty" json:"methods,omitempty"`
	// CustomClaims are a minted grant's extra access and ID token claims, JSON.
	CustomClaims string `dynamodbav:"custom_claims,omitempty" json:"custom_claims,omitempty"`
}

type codeItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	Grant
}

// PutCode stores the grant of the authorization code whose hash is hash
// until expires (pattern 22).
func (t *Table) PutCode(ctx context.Context, hash string, g Grant, expires time.Time) error {
	return t.putSignIn(ctx, "put code", codeKey(hash), codeItem{Type: typeCode, Version: 1, Expires: expires.Unix(), Grant: g}, true)
}

// ConsumeCode deletes the code hash and returns its grant: a conditional
// DeleteItem returning the old item, so of two concurrent exchanges one
// gets the grant and the other ErrGone. An expired code gives ErrGone too.
func (t *Table) ConsumeCode(ctx context.Context, hash string) (Grant, error) {
	out, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(t.name), Key: codeKey(hash),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ReturnValues:        types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return Grant{}, fmt.Errorf("consume code: %w", ErrGone)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("consume code: %w", unavailable(err))
	}
	var it codeItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Grant{}, fmt.Errorf("consume code: decode: %w", err)
	}
	if t.expired(it.Expires) {
		return Grant{}, fmt.Errorf("consume code: expired: %w", ErrGone)
	}
	return it.Grant, nil
}

// Issued records what one exchange issued, so that a replay of its code (or
// the reuse of a rotated refresh token) revokes it.
type Issued struct {
	TokenID      string    `dynamodbav:"token_id"`
	TokenExpires time.Time `dynamodbav:"token_expires"`
	FamilyID     string    `dynamodbav:"family_id,omitempty"`
}

type usedCodeItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	Issued
}

// ClaimCode records, before code hash is consumed, what its exchange will
// issue, until expires (pattern 23): a conditional Put, so of two
// exchanges of one code only the first claims it; the other gets ErrUsed
// and revokes what the record names (UsedCode). Claiming first leaves no
// moment in which a code is gone but its record not yet written.
func (t *Table) ClaimCode(ctx context.Context, hash string, is Issued, expires time.Time) error {
	err := t.putSignIn(ctx, "claim code", usedCodeKey(hash), usedCodeItem{Type: typeUsedCode, Version: 1, Expires: expires.Unix(), Issued: is}, true)
	if errors.Is(err, errExists) {
		return fmt.Errorf("claim code: %w", ErrUsed)
	}
	return err
}

// UsedCode returns what the exchange of code hash issued; ErrGone when the
// code was never exchanged (or its record expired).
func (t *Table) UsedCode(ctx context.Context, hash string) (Issued, error) {
	var it usedCodeItem
	if err := t.getSignIn(ctx, usedCodeKey(hash), &it, func() int64 { return it.Expires }); err != nil {
		return Issued{}, fmt.Errorf("used code: %w", err)
	}
	return it.Issued, nil
}

// Family is a refresh-token family: the tokens of one sign-in, each
// replacing the one before.
type Family struct {
	ID string `dynamodbav:"family_id"`
	Grant
	CreatedAt        time.Time `dynamodbav:"created_at"`
	AbsoluteExpiry   time.Time `dynamodbav:"absolute_expiry"`
	IdleLifetimeSecs int64     `dynamodbav:"idle_lifetime"`
	Revoked          bool      `dynamodbav:"revoked"`
	// Last is the access token issued with the current refresh token.
	Last Issued `dynamodbav:"last"`
}

// RefreshToken is one refresh token of a family, by its hash.
type RefreshToken struct {
	Hash       string    `dynamodbav:"token_hash"`
	FamilyID   string    `dynamodbav:"family_id"`
	Rotated    bool      `dynamodbav:"rotated"`
	IdleExpiry time.Time `dynamodbav:"idle_expiry"`
	CreatedAt  time.Time `dynamodbav:"created_at"`
}

type familyItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	Family
}

type refreshItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	RefreshToken
}

func (t *Table) refreshPut(rt RefreshToken, absolute time.Time) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(refreshItem{
		Type: typeRefresh, Version: 1, Expires: absolute.Unix(), RefreshToken: rt,
	})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encode: %w", err)
	}
	maps.Copy(item, refreshKey(rt.Hash))
	return t.txPut(item, "attribute_not_exists(pk)", nil, nil), nil
}

// CreateFamily stores family f with its first refresh token rt, in one
// transaction (pattern 24); both expire (TTL) at the family's absolute expiry.
func (t *Table) CreateFamily(ctx context.Context, f Family, rt RefreshToken) error {
	fam, err := attributevalue.MarshalMap(familyItem{
		Type: typeFamily, Version: 1, Expires: f.AbsoluteExpiry.Unix(), Family: f,
	})
	if err != nil {
		return fmt.Errorf("create family: encode: %w", err)
	}
	maps.Copy(fam, familyKey(f.ID))
	tok, err := t.refreshPut(rt, f.AbsoluteExpiry)
	if err != nil {
		return fmt.Errorf("create family: %w", err)
	}
	if err := t.transact(ctx, []types.TransactWriteItem{t.txPut(fam, "attribute_not_exists(pk)", nil, nil), tok}); err != nil {
		return fmt.Errorf("create family: %w", err)
	}
	return nil
}

// GetRefresh reads the refresh token hash and its family, consistently
// (pattern 25). A token or family that does not exist or expired gives
// ErrGone; a rotated token or revoked family is returned as it is: the
// caller tells reuse.
func (t *Table) GetRefresh(ctx context.Context, hash string) (RefreshToken, Family, error) {
	var rt refreshItem
	if err := t.getSignIn(ctx, refreshKey(hash), &rt, func() int64 { return rt.Expires }); err != nil {
		return RefreshToken{}, Family{}, fmt.Errorf("get refresh token: %w", err)
	}
	var f familyItem
	if err := t.getSignIn(ctx, familyKey(rt.FamilyID), &f, func() int64 { return f.Expires }); err != nil {
		return RefreshToken{}, Family{}, fmt.Errorf("get refresh family: %w", err)
	}
	return rt.RefreshToken, f.Family, nil
}

// RotateRefresh replaces the refresh token old of family f with next and
// records last, the access token issued with it, in one transaction: old
// must not be rotated yet and the family not revoked, so of two concurrent
// uses of one token one wins and the other gets ErrReused.
func (t *Table) RotateRefresh(ctx context.Context, f Family, old string, next RefreshToken, last Issued) error {
	tok, err := t.refreshPut(next, f.AbsoluteExpiry)
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	lastAV, err := attributevalue.Marshal(last)
	if err != nil {
		return fmt.Errorf("rotate refresh token: encode: %w", err)
	}
	falseAV := &types.AttributeValueMemberBOOL{Value: false}
	items := []types.TransactWriteItem{
		t.txUpdate(refreshKey(old), "SET rotated = :t, version = version + :one", "rotated = :f",
			nil, map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": falseAV, ":one": numberValue(1)}),
		tok,
		t.txUpdate(familyKey(f.ID), "SET #last = :last, version = version + :one", "revoked = :f",
			map[string]string{"#last": "last"}, map[string]types.AttributeValue{":last": lastAV, ":f": falseAV, ":one": numberValue(1)}),
	}
	err = t.transact(ctx, items)
	var ce *conditionError
	if errors.As(err, &ce) {
		return fmt.Errorf("rotate refresh token: %w", ErrReused)
	}
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// RevokeFamily marks family id revoked and returns it as it now is, so the
// caller can revoke its last access token too. A missing family gives
// ErrGone.
func (t *Table) RevokeFamily(ctx context.Context, id string) (Family, error) {
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: familyKey(id),
		UpdateExpression:          aws.String("SET revoked = :t"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return Family{}, fmt.Errorf("revoke family: %w", ErrGone)
	}
	if err != nil {
		return Family{}, fmt.Errorf("revoke family: %w", unavailable(err))
	}
	var f familyItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &f); err != nil {
		return Family{}, fmt.Errorf("revoke family: decode: %w", err)
	}
	return f.Family, nil
}

// SubjectClaims are the claims of an end user as an organisation's clients
// see them (userinfo), stored at each sign-in (pattern 26).
type SubjectClaims struct {
	PartnerID      string    `dynamodbav:"partner_id"`
	OrganisationID string    `dynamodbav:"organisation_id"`
	Subject        string    `dynamodbav:"subject"`
	Claims         string    `dynamodbav:"claims"`
	UpdatedAt      time.Time `dynamodbav:"updated_at"`
}

type subjectItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	SubjectClaims
}

// PutSubjectClaims stores s until expires.
func (t *Table) PutSubjectClaims(ctx context.Context, s SubjectClaims, expires time.Time) error {
	return t.putSignIn(ctx, "put subject claims", subjectKey(s.PartnerID, s.OrganisationID, s.Subject), subjectItem{
		Type: typeSubjectRec, Version: 1, Expires: expires.Unix(), SubjectClaims: s,
	}, false)
}

// GetSubjectClaims reads the claims of sub in the partner's organisation
// orgID; ErrGone when none are stored.
func (t *Table) GetSubjectClaims(ctx context.Context, partnerID, orgID, sub string) (SubjectClaims, error) {
	var it subjectItem
	if err := t.getSignIn(ctx, subjectKey(partnerID, orgID, sub), &it, func() int64 { return it.Expires }); err != nil {
		return SubjectClaims{}, fmt.Errorf("get subject claims: %w", err)
	}
	return it.SubjectClaims, nil
}

// errExists is putSignIn's error for an item that already exists.
var errExists = errors.New("store: item exists")

// putSignIn writes item (a struct with type, version and expires_at) at
// key, only when no item has that key if mustBeNew (errExists otherwise);
// op names the operation in errors.
func (t *Table) putSignIn(ctx context.Context, op string, key map[string]types.AttributeValue, item any, mustBeNew bool) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	maps.Copy(av, key)
	in := &dynamodb.PutItemInput{TableName: aws.String(t.name), Item: av}
	if mustBeNew {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	}
	_, err = t.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s: %w", op, errExists)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, unavailable(err))
	}
	return nil
}

// getSignIn reads a sign-in item consistently into out; missing or past its
// expiry (TTL deletes lazily) gives ErrGone.
func (t *Table) getSignIn(ctx context.Context, key map[string]types.AttributeValue, out any, expires func() int64) error {
	err := t.getItem(ctx, key, out)
	if errors.Is(err, ErrNotFound) {
		return ErrGone
	}
	if err != nil {
		return err
	}
	if exp := expires(); exp > 0 && t.expired(exp) {
		return ErrGone
	}
	return nil
}

// expired reports whether exp, an item's expires_at (Unix seconds), has
// passed.
func (t *Table) expired(exp int64) bool { return !t.now().Before(time.Unix(exp, 0)) }

// ClaimsJSON encodes claims for Grant.Claims and SubjectClaims.Claims.
func ClaimsJSON(claims map[string]any) (string, error) {
	if len(claims) == 0 {
		return "", nil
	}
	b, err := json.Marshal(claims)
	return string(b), err
}

// ActionMintTokens is the audit action of a partner minting tokens for a
// subject of its client (the record names the client, never the tokens).
const ActionMintTokens = "mint_tokens"

// RecordMint writes the audit record of a mint for client clientID of
// partnerID, by ctx's origin (pattern 12).
func (t *Table) RecordMint(ctx context.Context, partnerID, clientID string) error {
	x := &txn{}
	if err := t.audit(ctx, x, partnerID, clientResource(clientID), ActionMintTokens, []string{}); err != nil {
		return fmt.Errorf("record mint: %w", err)
	}
	if err := t.run(ctx, x); err != nil {
		return fmt.Errorf("record mint: %w", err)
	}
	return nil
}
