package usage

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/jsonbody"
)

// CSVMediaType is the report's CSV representation (Accept: text/csv).
const CSVMediaType = "text/csv; charset=utf-8"

// Operations are the usage report's operations by registry name. They
// expect auth.Require in front (the caller in the context, its access
// checked by the registry's route) and the common middleware around.
func Operations(svc *Service) endpoint.Operations {
	h := &handler{svc: svc}
	return endpoint.Operations{"getUsage": h.report}
}

type handler struct {
	svc *Service
}

func (h *handler) report(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	rep, err := h.svc.Report(r.Context(), c.PartnerID, q)
	if err != nil {
		return err
	}
	w.Header().Add("Vary", "Accept")
	if wantsCSV(r.Header.Values("Accept")) {
		writeCSV(w, rep)
		return nil
	}
	jsonbody.Write(w, http.StatusOK, representation(rep))
	return nil
}

// keyName is the member naming a row's key in each breakdown.
func keyName(groupBy string) string {
	switch groupBy {
	case ByOrganisation:
		return "organisation_id"
	case ByClient:
		return "client_id"
	}
	return "day"
}

type countsJSON struct {
	Token  int64 `json:"token"`
	API    int64 `json:"api"`
	SignIn int64 `json:"signin"`
}

// rowJSON is a row with its key under the breakdown's name; the partner's
// own usage has organisation_id null.
type rowJSON struct {
	name string
	Row
}

func (r rowJSON) MarshalJSON() ([]byte, error) {
	var key any = r.Key
	if r.Key == "" {
		key = nil
	}
	name, _ := json.Marshal(r.name)
	k, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	return []byte(`{` + string(name) + `:` + string(k) + `,"token":` + strconv.FormatInt(r.Token, 10) +
		`,"api":` + strconv.FormatInt(r.API, 10) + `,"signin":` + strconv.FormatInt(r.SignIn, 10) + `}`), nil
}

type reportJSON struct {
	From    string     `json:"from"`
	To      string     `json:"to"`
	GroupBy string     `json:"group_by"`
	Totals  countsJSON `json:"totals"`
	Items   []rowJSON  `json:"items"`
}

func representation(rep Report) reportJSON {
	out := reportJSON{
		From: rep.From, To: rep.To, GroupBy: rep.GroupBy,
		Totals: countsJSON{Token: rep.Totals.Token, API: rep.Totals.API, SignIn: rep.Totals.SignIn},
		Items:  make([]rowJSON, len(rep.Rows)),
	}
	for i, row := range rep.Rows {
		out.Items[i] = rowJSON{name: keyName(rep.GroupBy), Row: row}
	}
	return out
}

// writeCSV sends the breakdown as CSV: a header row (the key's name, token,
// api, signin), then one row per item; the partner's own organisation is empty.
func writeCSV(w http.ResponseWriter, rep Report) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{keyName(rep.GroupBy), "token", "api", "signin"})
	for _, row := range rep.Rows {
		_ = cw.Write([]string{row.Key, strconv.FormatInt(row.Token, 10), strconv.FormatInt(row.API, 10), strconv.FormatInt(row.SignIn, 10)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", CSVMediaType)
	w.Header().Set("Content-Disposition", `attachment; filename="usage-`+rep.From+`-`+rep.To+`-`+rep.GroupBy+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// wantsCSV reports whether the Accept header prefers text/csv to JSON:
// text/csv (or text/*) with a higher quality than application/json (or
// application/*, */*). Anything else, including an Accept that allows
// neither, gets JSON: a report in the default representation is more useful
// than a 406 (RFC 9110 §12.5.1 allows disregarding Accept).
func wantsCSV(accept []string) bool {
	var csvQ, jsonQ float64
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			switch mt {
			case "text/csv", "text/*":
				csvQ = max(csvQ, q)
			case "application/json", "application/*", "*/*":
				jsonQ = max(jsonQ, q)
			}
		}
	}
	return csvQ > jsonQ
}
