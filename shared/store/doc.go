// Package store is the Partner API's single DynamoDB table: its key schema,
// the key builders of every entity, and the reads and writes the API makes.
//
// # Table
//
//	pk (S, partition key), sk (S, sort key)
//	GSI1: gsi1pk (S), gsi1sk (S), projection ALL
//	TTL attribute: expires_at (N, Unix seconds)
//	Billing: on demand. Every item carries pk, sk, type and version.
//
// Partners and organisation clients share one namespace of client ids (both
// authenticate at POST /v1/token), so both are "principal" items under
// CLIENT#<client_id>; the item itself is the uniqueness guard.
//
// # Access patterns
//
// No request path scans. Every list is a Query with Limit. A page starts
// after a position the caller passes back: the id of the previous page's
// last item (for audit records, its sort key, AuditCursor), from which the
// store rebuilds the ExclusiveStartKey with the key builders below; it reads
// limit+1 items (going on past DynamoDB's 1 MB pages) to know whether more
// follow. The store never returns LastEvaluatedKey: the API seals the
// position into an opaque, authenticated cursor bound to the partner and the
// list (package cursor), so the key layout stays private.
//
//	#   pattern                                     operation                  index  key condition
//	1   principal (partner or client) by client id  GetItem (consistent)       table  pk=CLIENT#<client_id>, sk=CLIENT
//	2   client id uniqueness (create)               Put attribute_not_exists   table  pk=CLIENT#<client_id>, sk=CLIENT
//	3   partner's organisation by id                GetItem                    table  pk=PARTNER#<partner_id>, sk=ORG#<org_id>
//	4   list a partner's organisations              Query                      table  pk=PARTNER#<partner_id>, begins_with(sk, "ORG#")
//	5   list children of an organisation            Query                      GSI1   gsi1pk=PARTNER#<partner_id>#PARENT#<parent_id or "ROOT">, gsi1sk=ORG#<org_id>
//	    (the ?parent_id= list filter; eventually consistent)
//	6   list clients of an organisation             Query                      GSI1   gsi1pk=PARTNER#<partner_id>#ORG#<org_id>#CLIENTS, gsi1sk=CLIENT#<client_id>
//	    (on the principal item of each client; eventually consistent)
//	7   refuse org delete while children/clients    condition child_count = 0 AND client_count = 0 AND version = <read> on the
//	                                                 org item; the counts change in the same TransactWriteItems as each
//	                                                 child or client create, delete and move (clients: orgClientCountChange)
//	8   token state on every authenticated request  BatchGetItem (consistent)  table  pk=REVOKED#<jti>, sk=REVOKED (expires_at = token exp) with
//	    (TokenState: revoked? principal enabled?)                                    pattern 1's principal; for a client's token also the partner's
//	                                                                                 principal and pattern 3's organisation, then pattern 19's ancestors
//	9   credential and failed secret attempts       BatchGetItem (consistent)  table  pattern 1 with pk=CLIENT#<client_id>, sk=FAILURES#<source ip>#<window start>;
//	    of a client id from one source address      fast check: then UpdateItem ADD failures :1 or successes :1 IF failures < the
//	                                                 limit (CountAttempt; not counted = locked out; a right generated secret
//	                                                 is not counted); argon2id check: before it
//	                                                 UpdateItem ADD pending :1 RETURN ALL_NEW, checked only when failures + pending
//	                                                 <= the limit (ReserveAttempt); then ADD pending :-1 (and failures :1 when it
//	                                                 failed) (expires_at = window end + one window)
//	10  usage counter increment                     UpdateItem ADD count       table  pk=USAGE#<partner_id>#<shard>, sk=<day>#<kind>#<org_id or "-">#<client_id>
//	    (a token issued: kind "token"; a management     (shard: random in 0..UsageShards-1; day: UTC YYYY-MM-DD)
//	    call: kind "api")
//	11  usage for a date range                      Query (consistent) per     table  pk=USAGE#<partner_id>#<shard>, sk BETWEEN "<from>#" AND "<to>#~"
//	                                                 shard, every page, summed        for each shard 0..UsageShards-1, at once
//	12  audit record (with the change it records)  Put in the change's        table  pk=AUDIT#<partner_id>, sk=<time>#<event_id>, gsi1pk=AUDIT#<partner_id>#<resource_id>,
//	    (every create, update, delete, secret       TransactWriteItems                gsi1sk=<time>#<event_id>; expires_at = time + AUDIT_RETENTION_DAYS
//	    rotation and partner action)                                                  (<time>: RFC 3339 UTC at fixed nanosecond width, so keys sort by time)
//	13  audit records, newest first, time range     Query, ScanIndexForward=false  table  pk=AUDIT#<partner_id>, sk BETWEEN <from or "0"> AND <to>"~" (or "~")
//	14  audit records of one resource               Query, ScanIndexForward=false  GSI1   gsi1pk=AUDIT#<partner_id>#<resource_id>, gsi1sk BETWEEN as in 13
//	    (?resource_id=; eventually consistent)
//	15  authorisation server by id                  GetItem (consistent)       table  pk=PARTNER#<partner_id>, sk=AS#<org_id>#<as_id>
//	    (create: Put attribute_not_exists with ADD auth_server_count on the org item; update: Update on version)
//	16  list an organisation's authorisation servers Query (consistent)        table  pk=PARTNER#<partner_id>, begins_with(sk, "AS#<org_id>#")
//	    (also, all pages, to name the servers referencing one whose delete is refused)
//	17  hosted-page UI config of an organisation    GetItem                    table  pk=PARTNER#<partner_id>, sk=UICONFIG#<org_id>
//	    (Put conditional on version, with a ConditionCheck that the org exists; deleted in the org's delete transaction)
//	18  children of an organisation, consistent     Query (consistent), then   table  pk=PARTNER#<partner_id>, begins_with(sk, "CHILD#<parent_id>#");
//	    (refusing to narrow a parent)               BatchGetItem of the orgs          link items written with each child create, delete and move
//	19  partner, organisation and ancestors enabled BatchGetItem, then         table  pattern 1's partner principal and pk=PARTNER#<partner_id>, sk=ORG#<org_id>
//	    (at token issuance: in pattern 9's batch     BatchGetItem of the path          and sk=ORG#<id> for each id of the org's path as this process last saw
//	    when the process knows the client's owner,  only when the path is new         it (a hint: the org item in the same batch says whether it still holds);
//	    else ClientChainActive; TokenState on every  to the process or changed         a second batch of the actual path only when the hint was missing or stale
//	    client-token request)
//	20  clients of an organisation, consistent      Query (consistent), then   table  pk=PARTNER#<partner_id>, begins_with(sk, "ORGCLIENT#<org_id>#");
//	    (refusing to narrow an organisation)        BatchGetItem of the clients       link items written and deleted with each client (pattern 1 keys)
//	21  sign-in session (hosted page)               Put attribute_not_exists;  table  pk=SESSION#<session_id>, sk=SESSION (expires_at: 30 min before
//	                                                GetItem (consistent); Delete          sign-in, 8 h after); the id is replaced at sign-in
//	22  authorization code (single use)             Put; DeleteItem with           table  pk=CODE#<sha256(code)>, sk=CODE (expires_at = issue + 60 s); the
//	                                                attribute_exists, ALL_OLD             conditional delete is the one winner of concurrent exchanges
//	23  used-code record (replay revokes)           Put attribute_not_exists   table  pk=CODE#<sha256(code)>, sk=USED: what the exchange issued (access
//	                                                (claimed before 22's delete); Get      token id, refresh family), kept until those expire
//	24  refresh-token family and its tokens         TransactWriteItems (Put    table  pk=RFAMILY#<family_id>, sk=RFAMILY and pk=REFRESH#<sha256(token)>,
//	                                                family + first token)                 sk=REFRESH (expires_at = the family's absolute expiry)
//	25  refresh token with its family; rotation     two GetItem (consistent);  table  pattern 24's keys; rotation is one transaction: the old token
//	    and reuse detection                         TransactWriteItems                    marked rotated on condition it was not, the next token Put, the
//	                                                                                      family's last access token set on condition it is not revoked;
//	                                                                                      reuse or revocation: UpdateItem revoked=true on the family
//	26  an end user's claims for userinfo           Put; GetItem (consistent)  table  pk=PARTNER#<partner_id>, sk=SUBJECT#<org_id>#<sub>, written at
//	                                                                                      each sign-in, expiring with the longest grant it backs
//	27  management writes of a partner per minute   UpdateItem ADD writes,     table  pk=WRITES#<partner_id>, sk=<minute start, Unix seconds>
//	    (the per-partner write rate limit)          condition writes < limit              (expires_at = window end + one minute)
//	28  JWT signing key ring (wrapped signing mode) Query (consistent), all    table  pk=KEYRING, begins_with(sk, "KEY#"); one item per key, sk=KEY#<kid>
//	    (every function at cold start and on        pages; Put attribute_not_exists   (kid, alg, status, created_at, activates_at, retires_at, public_jwk,
//	    refresh; the admin function's rotation)     to add, Put on version to change  wrapped_key); a retired key's expires_at = retires_at + 30 days
//	29  federation flow (a sign-in sent to an       Put attribute_not_exists;  table  pk=FLOW#<SHA-256 of the state sent upstream>, sk=FLOW (expires_at: 10 min);
//	    upstream authorisation server) by state     UpdateItem SET used        the callback claims it once (condition used = false, ALL_OLD on failure,
//	                                                 (conditional)                     so a replayed state is told apart from an unknown one)
//	30  authorisation servers offered at sign-in    Query (consistent)         table  pattern 16 (the signin function reads its client's organisation's servers)
//	31  API resources of a server (by id, list)     GetItem / Query            table  pk=PARTNER#<partner_id>, sk=APIRES#<org_id>#<as_id>#<resource_id>
//	                                                 (consistent)                      (list: begins_with(sk, "APIRES#<org_id>#<as_id>#"))
//	32  certifications of a server (by id, list)    GetItem / Query            table  pk=PARTNER#<partner_id>, sk=ASCERT#<org_id>#<as_id>#<certification_id>
//	    (31, 32: create Put attribute_not_exists with ADD child_resource_count on the server item on condition that it
//	    exists; delete likewise with -1; update Put on version. DeleteAuthServer requires child_resource_count = 0,
//	    so no API resource or certification outlives its server.)
//
// Organisation tree invariants under concurrency: a child's create, move or
// change of restrictions updates its parent in the same transaction (ADD
// child_count, ADD child_seq) on condition that the parent still exists at
// the version the child was checked against; an update that narrows an
// organisation is conditional on its version and on child_seq being the
// value read before its children and clients were checked (patterns 18 and
// 20).
//
// Clients under concurrency: a client's create is one transaction of its
// principal item (attribute_not_exists(pk): one id, one winner, whether the
// id is taken by a partner or a client), its link item and the
// organisation's client_count (+1); a client's update that may change its
// fit in the organisation (scopes, product, provider groups, production) is
// conditional on the organisation's version it was checked against and bumps
// child_seq in the same transaction, as its create does; its delete removes
// the principal (version-conditional) and the link and decrements
// client_count. So an organisation is never narrowed past a client, nor
// deleted while it has one.
//
// Authorisation servers under concurrency: a server's create and delete
// change its organisation's auth_server_count in the same transaction
// (create on condition that the organisation exists), and
// DeleteOrganisation requires it to be zero, so an organisation is never
// deleted while it has servers nor gains one while being deleted. A
// server's parent and superseded-by references are counted on the servers
// they name (ref_count, ADD in the same transaction as the create, update or
// delete that adds or drops the reference, on condition that the named
// server exists); a server's delete requires its ref_count to be zero. So
// no reference is ever left dangling, whatever the interleaving.
//
// Errors (errors.go): the store returns ErrNotFound, a *VersionError
// (ErrVersionMismatch, with the current version when known), a
// *ConflictError (ErrConflict, with a ConflictReason and the ids and counts
// that explain it) and ErrUnavailable (throttled, or a transaction kept
// cancelled by concurrent ones), each method's doc saying which; it holds no
// caller-facing wording, which each endpoint group chooses. A cancelled
// transaction is explained from its CancellationReasons: the items whose
// failure needs explaining ask for ReturnValuesOnConditionCheckFailure
// ALL_OLD, so the explanation reads the item as it was when the condition
// failed rather than re-reading it afterwards (which would race with the
// writes that followed). Condition and update expressions that vary are
// built with the SDK's expression builder.
//
// Audit records are written in the transaction of the change they record
// (with the actor and request ids of the context's Origin), so a change is
// never without its record and a refused change leaves none. They name the
// changed fields, never values; credential attributes are named only as
// client_secret.
//
// Tenant isolation is part of the keys: every partner-owned item but the
// principal lives under PARTNER#<partner_id>, and principals carry partner_id,
// which readers compare before returning anything.
//
// Hot partitions: usage counters are write-sharded (pattern 10). Every
// token and management call of a partner on one day increments the same few
// counters, and one item (indeed one partition key) takes at most 1,000
// write units a second; a busy partner issuing tokens above that would be
// throttled on a single counter, and adaptive capacity cannot split a single
// item. Each increment therefore goes to one of UsageShards (8) partition
// keys chosen at random, so a partner's counters take up to 8,000 writes/s
// before any one key reaches the limit, and the increments stay atomic (ADD
// on each shard's item; no count is lost under concurrency, which the
// 100-request burst test checks). A read (pattern 11) is 8 small Queries, one
// per shard, run at once and summed: reports are rare, writes are on every
// request. The organisation partition of a partner is read-mostly.
package store
