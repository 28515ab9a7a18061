package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/internal/httpstatus"
)

// Exports: GET /api/v1/export/{kind}?format=csv|xlsx&<the filters of the
// kind's list>. Kinds are the entries of exporters (the attendance of
// video meetings in export_meetings.go). Files stream page by page from the store, so their size is not
// bounded by memory. Personal data is masked unless the person may unmask
// and asked for it (unmasked=1 with a reason). Every export is audited
// before the first byte goes out; if the audit log cannot be written,
// nothing is exported.

// exporter makes one kind of export.
type exporter struct {
	nameZH, nameEN string
	// header names the columns, Chinese and English.
	header []string
	// personal: the rows hold ID numbers and names (masked by default).
	personal bool
	// prepare reads the request's filter within the person's scope and
	// returns the rows' source; it answers the request itself when it
	// returns nil.
	prepare func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, unmasked bool) func(ctx context.Context, emit func([]any) error) error
}

var exporters = map[string]exporter{
	"checkins": {
		nameZH: "签到记录", nameEN: "Check-ins", personal: true,
		header: []string{"签到时间 At", "站点编号 Station ID", "站点 Station", "服务 Service", "排队号 Ticket",
			"姓名 Name", "证件号 ID number", "证件类型 Document", "方式 Method", "序号 Seq", "中心接收时间 Received", "记录编号 ID"},
		prepare: func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, unmasked bool) func(context.Context, func([]any) error) error {
			f, ok := s.scopedFilter(w, r, a)
			if !ok {
				return nil
			}
			f.Limit, f.Cursor, f.Order = cloud.MaxLimit, "", cloud.OrderAt
			names := s.names()
			return func(ctx context.Context, emit func([]any) error) error {
				for {
					p, err := s.o.Store.CheckIns(ctx, f)
					if err != nil {
						return err
					}
					for _, c := range p.CheckIns {
						v := c.Visitor
						if !unmasked {
							v = v.Masked()
						}
						info, _ := c.Service.Info()
						if err := emit([]any{s.local(c.At), c.StationID, names[c.StationID].Name, info.ZH + " " + info.EN, c.QueueNo,
							v.Name, v.IDNumber, string(v.DocType), string(c.Method), c.Seq, s.local(c.ReceivedAt), c.ID}); err != nil {
							return err
						}
					}
					if p.Next == "" {
						return nil
					}
					f.Cursor = p.Next
				}
			}
		},
	},
	"feedback": {
		nameZH: "满意度评价", nameEN: "Ratings",
		header: []string{"评价时间 At", "站点编号 Station ID", "站点 Station", "服务 Service", "评分 Rating", "评价 Label",
			"原因 Reasons", "意见 Comment", "签到编号 Check-in", "中心接收时间 Received", "记录编号 ID"},
		prepare: func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, _ bool) func(context.Context, func([]any) error) error {
			f, ok := s.scopedFilter(w, r, a)
			if !ok {
				return nil
			}
			f.Limit, f.Cursor, f.Order = cloud.MaxLimit, "", cloud.OrderAt
			names := s.names()
			return func(ctx context.Context, emit func([]any) error) error {
				for {
					p, err := s.o.Store.Feedback(ctx, f)
					if err != nil {
						return err
					}
					for _, fb := range p.Feedback {
						info, _ := fb.Service.Info()
						var reasons []string
						for _, rs := range fb.Reasons {
							reasons = append(reasons, rs.Label("zh"))
						}
						if err := emit([]any{s.local(fb.At), fb.StationID, names[fb.StationID].Name, info.ZH + " " + info.EN, int(fb.Rating),
							fb.Rating.Label("zh"), strings.Join(reasons, "、"), fb.Comment, fb.CheckInID, s.local(fb.ReceivedAt), fb.ID}); err != nil {
							return err
						}
					}
					if p.Next == "" {
						return nil
					}
					f.Cursor = p.Next
				}
			}
		},
	},
	"alerts": {
		nameZH: "告警与回访", nameEN: "Alerts",
		header: []string{"编号 ID", "开始 Opened", "规则 Rule", "站点编号 Station ID", "站点 Station", "状态 State", "说明 Message",
			"回访期限 Due", "恢复 Cleared", "确认时间 Acknowledged", "确认人 By", "确认说明 Comment", "解决时间 Resolved", "解决人 By", "处理说明 Comment"},
		prepare: func(s *Server, w http.ResponseWriter, r *http.Request, a *reqAuth, _ bool) func(context.Context, func([]any) error) error {
			f, ok := s.alertFilter(w, r, a)
			if !ok {
				return nil
			}
			f.Limit, f.Cursor = cloud.MaxLimit, ""
			names := s.names()
			return func(ctx context.Context, emit func([]any) error) error {
				for {
					p, err := s.o.Store.Alerts(ctx, f)
					if err != nil {
						return err
					}
					for _, x := range p.Alerts {
						if err := emit([]any{x.ID, s.local(x.OpenedAt), x.Rule.Label("zh"), x.Station, names[x.Station].Name,
							x.State.Label("zh"), x.MessageZH, s.local(x.Due), s.local(x.ClearedAt), s.local(x.AckAt), x.AckBy, x.AckComment,
							s.local(x.ResolvedAt), x.ResolvedBy, x.ResolvedComment}); err != nil {
							return err
						}
					}
					if p.Next == "" {
						return nil
					}
					f.Cursor = p.Next
				}
			}
		},
	},
}

// local formats a time in the hub's zone; "" for the zero time.
func (s *Server) local(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.o.Location).Format("2006-01-02 15:04:05")
}

// ExportKinds returns the kinds of export, sorted.
func ExportKinds() []string {
	var out []string
	for k := range exporters {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, a *reqAuth) {
	kind := r.PathValue("kind")
	ex, ok := exporters[kind]
	if !ok {
		writeError(w, http.StatusNotFound, vetnet.Errorz(vetnet.ENOTFOUND, "没有这种导出", "No such export."), "")
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "":
		format = "csv"
	case "csv", "xlsx":
	default:
		s.badReqs.Inc("format")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 format 应为 csv 或 xlsx", "Parameter format must be csv or xlsx."), "format")
		return
	}
	unmasked := false
	switch q.Get("unmasked") {
	case "", "0", "false":
	case "1", "true":
		unmasked = true
	default:
		s.badReqs.Inc("unmasked")
		writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "参数 unmasked 应为 1 或 0", "Parameter unmasked must be 1 or 0."), "unmasked")
		return
	}
	reason := strings.TrimSpace(q.Get("reason"))
	if unmasked {
		if !ex.personal {
			unmasked = false
		} else if !a.CanUnmask() {
			s.deny(w, r, a, "unmasked export not allowed for role")
			return
		} else if reason == "" || len([]rune(reason)) > 200 {
			writeError(w, http.StatusBadRequest, vetnet.Errorz(vetnet.EINVALID, "导出完整信息需要填写事由(最多 200 字)",
				"An unmasked export needs a reason (at most 200 characters)."), "reason")
			return
		}
	}
	src := ex.prepare(s, w, r, a, unmasked)
	if src == nil {
		return
	}
	// The filter as the audit names it: the query without the reason.
	fq := url.Values{}
	for k, v := range q {
		if k != "reason" {
			fq[k] = v
		}
	}
	detail := "masked"
	if unmasked {
		detail = "unmasked"
	} else if !ex.personal {
		detail = "no personal data"
	}
	if err := s.audit(r, a, cloud.AuditExport, kind+"."+format+"?"+fq.Encode(), reason, detail); err != nil {
		writeError(w, http.StatusServiceUnavailable, vetnet.Errorz(vetnet.EUNAVAILABLE, "无法记录审计日志，未导出", "The audit log cannot be written; nothing exported."), "")
		return
	}
	s.exports.Inc(kind, format)
	file := fmt.Sprintf("vetnet-%s-%s.%s", kind, s.o.Now().In(s.o.Location).Format("20060102-1504"), format)
	h := w.Header()
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	h.Set("Cache-Control", "no-store")
	var err error
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		err = writeCSV(r.Context(), w, ex.header, src)
	} else {
		h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		err = writeXLSX(r.Context(), w, ex.nameZH+" "+ex.nameEN, ex.header, src)
	}
	if err != nil {
		s.o.Logf("web: export %s.%s by %s: %v", kind, format, a.User.Name, err)
		if rec, ok := w.(*httpstatus.Recorder); ok && rec.Code == 0 {
			// Nothing sent yet: a proper error instead of an empty file.
			h.Del("Content-Disposition")
			writeError(w, http.StatusInternalServerError, vetnet.Wrap(vetnet.EINTERNAL, err, "导出失败", "The export failed."), "")
		}
		// Otherwise the file is cut short, which the client sees.
	}
}

// writeCSV writes UTF-8 with a byte order mark, which Excel needs to read
// Chinese correctly.
func writeCSV(ctx context.Context, w http.ResponseWriter, header []string, src func(context.Context, func([]any) error) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	err := src(ctx, func(row []any) error {
		for i, v := range row {
			rec[i] = cell(v)
		}
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// cell formats a value for CSV. A text cell that a spreadsheet would
// read as a formula (=, +, -, @) gets a leading apostrophe: a visitor's
// comment must never run as a formula.
func cell(v any) string {
	switch x := v.(type) {
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return fmt.Sprint(v)
}

// writeXLSX streams rows into one sheet (excelize's stream writer keeps
// rows in a temporary file, not in memory).
func writeXLSX(ctx context.Context, w http.ResponseWriter, sheet string, header []string, src func(context.Context, func([]any) error) error) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(header), 18); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	// excelize wants the panes before the first row.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, Split: false, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", hdr, excelize.RowOpts{Height: 20}); err != nil {
		return err
	}
	n := 1
	err = src(ctx, func(row []any) error {
		n++
		cellName, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		vals := make([]any, len(row))
		for i, v := range row {
			if sv, ok := v.(string); ok {
				vals[i] = sv // excelize writes strings as text, never formulas
			} else {
				vals[i] = v
			}
		}
		return sw.SetRow(cellName, vals)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
