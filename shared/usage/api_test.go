package usage_test

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/usage"
)

// TestTokenBurst: 100 concurrent token requests of one partner are 100
// tokens in its usage, none lost, spread over the shards.
func TestTokenBurst(t *testing.T) {
	e := apptest.New(t, apptest.Options{MeterTimeout: 20 * time.Second})
	p := newPartner(t, e) // the reader's token: 1
	const burst = 100
	// The burst comes from one address: a generated secret's attempts
	// are never held back by the lockout.
	h, err := e.App.Handler("token")
	if err != nil {
		t.Fatal(err)
	}
	fns := make([]func() apptest.Response, burst)
	for i := range fns {
		fns[i] = func() apptest.Response {
			req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(p.ID, p.Secret)
			req.RemoteAddr = "198.51.100.1:40000"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return apptest.Response{StatusCode: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		}
	}
	for i, resp := range apptest.Race(fns...) {
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token request %d: got %d %s, want 200", i, resp.StatusCode, resp.Body)
		}
	}
	if strings.Contains(e.Log.String(), usage.FailedMessage) {
		t.Errorf("got %q in the log, want every count written:\n%s", usage.FailedMessage, e.Log)
	}
	r := p.usage(t, usage.ByClient)
	want := []item{{ClientID: str(p.ID), counts: counts{Token: burst + 1}}}
	if r.Totals != (counts{Token: burst + 1}) || !slices.EqualFunc(r.Items, want, itemEqual) {
		t.Errorf("got totals %+v items %s, want %d tokens of %s", r.Totals, describe(r.Items), burst+1, p.ID)
	}

	// The counters are spread over the shards, and their sum is the total.
	db := testenv.DynamoDB(t)
	var sum int64
	used := 0
	for shard := range store.UsageShards {
		out, err := db.Query(context.Background(), &dynamodb.QueryInput{
			TableName:              aws.String(e.App.Store.Name()),
			KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: "USAGE#" + p.ID + "#" + strconv.Itoa(shard)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			n, _ := strconv.ParseInt(it["count"].(*types.AttributeValueMemberN).Value, 10, 64)
			sum += n
		}
		if len(out.Items) > 0 {
			used++
		}
	}
	if sum != burst+1 || used < 2 {
		t.Errorf("got %d counted over %d shards, want %d over several", sum, used, burst+1)
	}
}

// TestManagementCallsCounted: every authenticated management call counts
// for its caller whatever its status; unauthenticated calls and usage
// reads do not.
func TestManagementCallsCounted(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)    // partner: token 1
	orgID := p.Org(t, nil)   // partner: api 1
	cl := p.client(t, orgID) // partner: api 2; client: token 1
	if resp := cl.Do(t, http.MethodGet, "/v1/clients/me", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("client me: %d %s", resp.StatusCode, resp.Body) // client: api 1
	}
	if resp := cl.Do(t, http.MethodGet, "/v1/organisations", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("client lists organisations: %d %s", resp.StatusCode, resp.Body) // client: api 2
	}
	missing := "/v1/organisations/00000000-0000-4000-8000-000000000000"
	if resp := p.Do(t, http.MethodGet, missing, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing organisation: %d %s", resp.StatusCode, resp.Body) // partner: api 3
	}
	if resp := e.Request(t, "", http.MethodGet, "/v1/organisations", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated: %d %s", resp.StatusCode, resp.Body) // not counted
	}

	day := today(e)
	tests := []struct {
		groupBy string
		want    []item
	}{
		{usage.ByOrganisation, []item{
			{OrganisationID: nil, counts: counts{Token: 1, API: 3}},
			{OrganisationID: str(orgID), counts: counts{Token: 1, API: 2}},
		}},
		{usage.ByClient, sortedByClient([]item{
			{ClientID: str(p.ID), counts: counts{Token: 1, API: 3}},
			{ClientID: str(cl.ID), counts: counts{Token: 1, API: 2}},
		})},
		{usage.ByDay, []item{{Day: str(day), counts: counts{Token: 2, API: 5}}}},
	}
	for _, tc := range tests {
		t.Run(tc.groupBy, func(t *testing.T) {
			r := p.usage(t, tc.groupBy) // reads are not counted: every case sees the same
			if r.From != day || r.To != day || r.GroupBy != tc.groupBy || r.Totals != (counts{Token: 2, API: 5}) {
				t.Errorf("got %s..%s by %s totals %+v, want %s..%s by %s totals 2 tokens 5 calls", r.From, r.To, r.GroupBy, r.Totals, day, day, tc.groupBy)
			}
			if !slices.EqualFunc(r.Items, tc.want, itemEqual) {
				t.Errorf("got items %s, want %s", describe(r.Items), describe(tc.want))
			}
		})
	}

	// A range before today has nothing; one ending today has it all.
	yesterday := e.Clock.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	r := get(t, p, url.Values{"from": {yesterday}, "to": {yesterday}})
	if r.Totals != (counts{}) || len(r.Items) != 0 || r.GroupBy != usage.DefaultGroupBy {
		t.Errorf("yesterday: got %+v, want nothing, grouped by %s", r, usage.DefaultGroupBy)
	}
	if r = get(t, p, url.Values{"from": {yesterday}, "to": {day}}); r.Totals != (counts{Token: 2, API: 5}) {
		t.Errorf("yesterday to today: got totals %+v, want 2 tokens 5 calls", r.Totals)
	}
}

// TestCSV: Accept text/csv gets the breakdown as CSV; an Accept that does
// not prefer CSV gets JSON.
func TestCSV(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	p.Org(t, nil)
	day := today(e)
	path := "/v1/usage?" + url.Values{"from": {day}, "to": {day}, "group_by": {"organisation"}}.Encode()

	resp := p.Do(t, http.MethodGet, path, nil, "Accept", "text/csv")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("got %d %q, want 200 text/csv; charset=utf-8: %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(resp.Body))).ReadAll()
	if err != nil {
		t.Fatalf("got %s: %v", resp.Body, err)
	}
	want := [][]string{{"organisation_id", "token", "api", "signin"}, {"", "1", "1", "0"}}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("got rows %q, want %q", rows, want)
	}

	for _, accept := range []string{"", "application/json", "*/*", "application/xml", "text/csv;q=0.5, application/json", "text/csv;q=0"} {
		resp := p.Do(t, http.MethodGet, path, nil, "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: got %d %q, want 200 application/json", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, accept := range []string{"text/csv, application/json;q=0.9", "text/*"} {
		if resp := p.Do(t, http.MethodGet, path, nil, "Accept", accept); resp.Header.Get("Content-Type") != usage.CSVMediaType {
			t.Errorf("Accept %q: got %q, want CSV", accept, resp.Header.Get("Content-Type"))
		}
	}
}

// TestValidation: every invalid parameter is named, all at once.
func TestValidation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	tests := []struct {
		name   string
		query  string
		fields []string
	}{
		{"nothing", "", []string{"from", "to"}},
		{"not dates", "from=2026-1-01&to=yesterday", []string{"from", "to"}},
		{"impossible date", "from=2026-02-30&to=2026-03-01", []string{"from"}},
		{"to before from", "from=2026-03-02&to=2026-03-01", []string{"to"}},
		{"367 days", "from=2024-01-01&to=2025-01-01", []string{"to"}},
		{"group_by", "from=2026-03-01&to=2026-03-01&group_by=week", []string{"group_by"}},
		{"unknown and repeated", "from=2026-03-01&from=2026-03-02&to=2026-03-03&limit=5", []string{"from", "limit"}},
		{"everything", "to=x&group_by=", []string{"from", "to", "group_by"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apptest.WantProblem(t, p.Do(t, http.MethodGet, "/v1/usage?"+tc.query, nil), http.StatusBadRequest, "invalid_request", tc.fields...)
		})
	}
	// 366 days (a leap year) is the longest range.
	if r := get(t, p, url.Values{"from": {"2024-01-01"}, "to": {"2024-12-31"}}); r.Totals != (counts{}) {
		t.Errorf("2024: got %+v, want nothing", r.Totals)
	}
}

// TestAccess: only a partner's token with usage:read reads usage.
func TestAccess(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	cl := p.client(t, p.Org(t, nil))
	narrow := p.WithScopes(t, scope.OrganisationsRead)
	path := "/v1/usage?from=2026-01-01&to=2026-01-02"
	apptest.WantProblem(t, e.Request(t, "", http.MethodGet, path, nil), http.StatusUnauthorized, "unauthorized")
	apptest.WantProblem(t, cl.Do(t, http.MethodGet, path, nil), http.StatusForbidden, "forbidden")
	resp := narrow.Do(t, http.MethodGet, path, nil)
	apptest.WantProblem(t, resp, http.StatusForbidden, "forbidden")
	if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="usage:read"`) {
		t.Errorf("got WWW-Authenticate %q, want insufficient_scope usage:read", resp.Header.Get("WWW-Authenticate"))
	}
	apptest.WantProblem(t, p.Do(t, http.MethodPost, path, nil), http.StatusMethodNotAllowed, "method_not_allowed")
}

// TestTenantIsolation: a partner sees only its own usage.
func TestTenantIsolation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a := newPartner(t, e)
	a.client(t, a.Org(t, nil))
	b := newPartner(t, e)
	for _, g := range []string{usage.ByOrganisation, usage.ByClient, usage.ByDay} {
		r := b.usage(t, g)
		if r.Totals != (counts{Token: 1}) || len(r.Items) != 1 || r.Items[0].Token != 1 {
			t.Errorf("by %s: got %s totals %+v, want only b's own token", g, describe(r.Items), r.Totals)
		}
		if g == usage.ByClient && *r.Items[0].ClientID != b.ID {
			t.Errorf("got client %s, want %s", *r.Items[0].ClientID, b.ID)
		}
	}
	if r := a.usage(t, usage.ByDay); r.Totals != (counts{Token: 2, API: 2}) {
		t.Errorf("a: got totals %+v, want 2 tokens 2 calls", r.Totals)
	}
}

// failingDB fails (or, slow, hangs until cancelled) every usage counter
// write and passes everything else to DynamoDB Local.
type failingDB struct {
	store.DynamoDB
	slow bool
}

func (f failingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if pk, ok := in.Key[store.AttrPK].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "USAGE#") {
		if f.slow {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, errors.New("injected failure")
	}
	return f.DynamoDB.UpdateItem(ctx, in, opts...)
}

// TestMeteringFailure: a counter write that fails or hangs does not fail
// the token request, which ends within the meter's timeout; the failure is
// logged at Warn with the stable message.
func TestMeteringFailure(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, secret := e.Partner(t)
	for _, slow := range []bool{false, true} {
		t.Run("slow="+strconv.FormatBool(slow), func(t *testing.T) {
			logger, log := testenv.LambdaLogger(t)
			a := app.NewWith(e.App.Config, failingDB{DynamoDB: testenv.DynamoDB(t), slow: slow}, e.App.Signer,
				logger, e.Clock.Now)
			const timeout = 100 * time.Millisecond
			a.Meter = a.Meter.WithTimeout(timeout)
			a.Groups = e.App.Groups
			h, err := a.Handler("token")
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			form := url.Values{"grant_type": {"client_credentials"}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, secret)
			began := time.Now()
			resp := e.Do(t, req)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(resp.Body), `"access_token"`) {
				t.Fatalf("got %d %s, want a token", resp.StatusCode, resp.Body)
			}
			if slow && time.Since(began) > 5*time.Second {
				t.Errorf("got the token after %s, want it within the meter's timeout (%s) plus the request", time.Since(began), timeout)
			}
			// As Lambda writes it: the message under "message", not "msg".
			if !strings.Contains(log.String(), `"level":"WARN","message":"`+usage.FailedMessage+`"`) {
				t.Errorf("got log %s, want a WARN %q", log, usage.FailedMessage)
			}
		})
	}
}

// TestLambdaEvents runs the sample events of events/usage through the
// Lambda handler, as the function does.
func TestLambdaEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	h, err := e.App.Handler("usage")
	if err != nil {
		t.Fatalf("usage handler: %v", err)
	}
	events := apptest.NewEvents(t, filepath.Join("..", "..", "events", "usage"), app.LambdaHandler(h))
	day := today(e)
	fill := strings.NewReplacer("{{token}}", p.Token, "{{from}}", day, "{{to}}", day)
	_, body := events.Invoke(t, "report.json", fill, http.StatusOK)
	if body["group_by"] != "organisation" || body["totals"].(map[string]any)["token"] != float64(1) {
		t.Errorf("report: got %v, want one token by organisation", body)
	}
	resp := events.InvokeResponse(t, "report-csv.json", fill, http.StatusOK)
	if want := "client_id,token,api,signin\n" + p.ID + ",1,0,0\n"; resp.Body != want {
		t.Errorf("report CSV: got %q, want %q", resp.Body, want)
	}
	if got := http.Header(resp.MultiValueHeaders).Get("Content-Type"); got != usage.CSVMediaType {
		t.Errorf("report CSV: got Content-Type %q, want %q", got, usage.CSVMediaType)
	}
	events.Invoke(t, "report.json", strings.NewReplacer("{{from}}", day, "{{to}}", day), http.StatusUnauthorized)

	// The group also serves the audit log: the partner's creation is on it.
	_, body = events.Invoke(t, "audit-events.json", fill, http.StatusOK)
	items, _ := body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["action"] != store.ActionCreate || body["next_cursor"] != nil {
		t.Errorf("audit events: got %v, want the partner's creation and no next cursor", body)
	}
	events.Invoke(t, "audit-events.json", strings.NewReplacer(), http.StatusUnauthorized)
}
