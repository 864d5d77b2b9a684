#include "report/html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "report/junit.h"  // XmlEscape: HTML text and attributes need the same escapes
#include "report/matrix_table.h"

namespace lastcall {

namespace {

// printf into a std::string, for the many numbers of an SVG.
__attribute__((format(printf, 1, 2))) std::string Format(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return std::string(buffer,
                     std::min<size_t>(static_cast<size_t>(std::max(n, 0)), sizeof buffer - 1));
}

std::string Seconds(int64_t ns) { return Format("%.6f s", static_cast<double>(ns) / 1e9); }

// A relative path as a URL path: a scenario named "a#b" or "50%" must not
// become a fragment or an escape.
std::string UrlPath(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~')
      out += static_cast<char>(c);
    else
      out += Format("%%%02X", c);
  }
  return out;
}
std::string Millis(int64_t ns) { return Format("%.1f ms", static_cast<double>(ns) / 1e6); }

// The SVGs share one horizontal geometry, so that a signal mark in the
// timeline sits above the latency it caused.
constexpr double kWidth = 1200, kLeft = 70, kRight = 10;
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kLane = 12, kBarHeight = 9;
constexpr double kMarkRows = 3, kMarkRow = 13;  // staggered event labels
constexpr size_t kMaxBuckets = 280;             // of the latency and throughput plots
constexpr size_t kOffendingShown = 50;          // per check in the table

// 1, 2 or 5 times a power of ten, at least `value`: round axis maxima.
double RoundUp(double value) {
  if (value <= 0) return 1;
  double power = std::pow(10, std::floor(std::log10(value)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= value) return m * power;
  return 10 * power;
}

// Time (ns since the run's epoch) to x, over the span of the history.
class TimeAxis {
 public:
  TimeAxis(int64_t begin, int64_t end) : begin_(begin), end_(std::max(end, begin + 1000000)) {}
  int64_t begin() const { return begin_; }
  int64_t end() const { return end_; }
  double X(int64_t t) const {
    return kLeft + static_cast<double>(std::clamp(t, begin_, end_) - begin_) /
                       static_cast<double>(end_ - begin_) * kPlotWidth;
  }
  double NsPerPixel() const { return static_cast<double>(end_ - begin_) / kPlotWidth; }
  // Vertical grid lines from `top` to `bottom` at round seconds, labelled below.
  std::string Grid(double top, double bottom) const {
    double step = RoundUp(static_cast<double>(end_ - begin_) / 1e9 / 10);
    std::string out;
    for (double s = std::ceil(static_cast<double>(begin_) / 1e9 / step) * step;
         s * 1e9 <= static_cast<double>(end_); s += step) {
      double x = X(static_cast<int64_t>(std::llround(s * 1e9)));
      out += Format(
          "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
          "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%g s</text>\n",
          x, top, x, bottom, x, bottom + 12, s);
    }
    return out;
  }

 private:
  int64_t begin_, end_;
};

std::string SvgOpen(const char* id, double height) {
  return Format(
      "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
      "width=\"%.0f\">\n",
      id, kWidth, height, kWidth);
}

// From the first attempt (the target's start-up is only waiting) to the
// last attempt or event; earlier events are drawn at the left edge.
TimeAxis AxisOf(const std::vector<Attempt>& attempts, const std::vector<Event>& events) {
  int64_t begin = INT64_MAX, end = INT64_MIN;
  for (const Attempt& a : attempts) {
    if (a.send_start >= 0) begin = std::min(begin, a.send_start);
    end = std::max({end, a.send_start, a.done});
  }
  for (const Event& e : events) {
    if (attempts.empty()) begin = std::min(begin, e.time);
    end = std::max(end, e.time);
  }
  if (begin > end) begin = end = 0;
  return TimeAxis(begin - (end - begin) / 50, end);
}

// What the timeline needs to know about keys: which are offending (in a
// failed check) and which were retried; both are drawn one bar per attempt.
struct KeyFacts {
  std::unordered_set<int64_t> offending;  // by seq
  std::unordered_map<int64_t, int> attempts;
};

KeyFacts FactsOf(const ScenarioResult& result, const std::vector<Attempt>& attempts) {
  KeyFacts facts;
  for (const CheckResult& c : result.checks)
    if (c.status == CheckStatus::kFail)
      for (const std::string& entry : c.offending)
        if (std::optional<int64_t> seq = History::SeqOfKey(result.seed, KeyOf(entry)))
          facts.offending.insert(*seq);
  for (const Attempt& a : attempts) ++facts.attempts[a.seq];
  return facts;
}

// The clients drawn as lanes: all of them up to kMaxLanes, else those with
// an offending attempt first, then the others in order.
std::vector<int> LanesOf(const std::vector<Attempt>& attempts, const KeyFacts& facts) {
  std::set<int> all, offending;
  for (const Attempt& a : attempts) {
    all.insert(a.client);
    if (facts.offending.count(a.seq)) offending.insert(a.client);
  }
  std::vector<int> lanes(offending.begin(), offending.end());
  for (int client : all)
    if (!offending.count(client)) lanes.push_back(client);
  if (lanes.size() > static_cast<size_t>(kMaxLanes)) lanes.resize(kMaxLanes);
  std::sort(lanes.begin(), lanes.end());
  return lanes;
}

// One bar: a single attempt, or neighbours of one lane merged (n > 1).
struct Bar {
  const Attempt* first;
  int64_t end;
  int n;
};

int64_t EndOf(const Attempt& a, const TimeAxis& axis) { return a.done >= 0 ? a.done : axis.end(); }

// The bars of one lane's attempts (sorted by send_start).
std::vector<Bar> BarsOf(const std::vector<const Attempt*>& lane, const KeyFacts& facts,
                        const TimeAxis& axis) {
  auto alone = [&](const Attempt* a) {
    return facts.offending.count(a->seq) || facts.attempts.at(a->seq) > 1;
  };
  std::vector<Bar> bars;
  for (const Attempt* a : lane) {
    if (!bars.empty()) {
      Bar& last = bars.back();
      bool merge =
          !alone(a) && !alone(last.first) && a->outcome == last.first->outcome &&
          static_cast<double>(EndOf(*a, axis) - last.first->send_start) < axis.NsPerPixel();
      if (merge) {
        last.end = std::max(last.end, EndOf(*a, axis));
        ++last.n;
        continue;
      }
    }
    bars.push_back(Bar{a, EndOf(*a, axis), 1});
  }
  return bars;
}

std::string AttemptTitle(const Attempt& a, uint64_t seed) {
  std::string status = a.status ? "HTTP " + std::to_string(a.status) : NetErrorName(a.error);
  std::string out = History::KeyFor(seed, a.seq) + " attempt " + std::to_string(a.attempt) +
                    " on connection " + std::to_string(a.connection) +
                    (a.reused_connection ? " (reused)" : "") + ": " + status + ", " +
                    OutcomeName(a.outcome) +
                    (a.cause == Cause::kNone ? "" : std::string(" (") + CauseName(a.cause) + ")") +
                    "; sent at " + Seconds(a.send_start);
  if (a.send_end >= 0) out += ", written after " + Millis(a.send_end - a.send_start);
  if (a.done >= 0) out += ", ended after " + Millis(a.done - a.send_start);
  return out;
}

std::string BarSvg(const Bar& bar, double y, const KeyFacts& facts, const TimeAxis& axis,
                   uint64_t seed, std::unordered_set<std::string>* anchors) {
  const Attempt& a = *bar.first;
  double x = axis.X(a.send_start);
  double width = std::max(axis.X(bar.end) - x, 0.6);
  std::string cls = std::string("bar ") + OutcomeName(a.outcome);
  std::string attributes;
  std::string title;
  if (bar.n == 1) {
    if (facts.offending.count(a.seq)) {
      cls += " v";
      // The first bar drawn of an offending key is what the checks table links to.
      std::string key = History::KeyFor(seed, a.seq);
      if (anchors->insert(key).second) attributes += " id=\"" + XmlEscape(key) + "\"";
    }
    attributes += " data-k=\"" + std::to_string(a.seq) + "\"";
    title = AttemptTitle(a, seed);
  } else {
    title = std::to_string(bar.n) + " attempts, " + OutcomeName(a.outcome) + ", " +
            Seconds(a.send_start) + " to " + Seconds(bar.end);
  }
  return "<rect class=\"" + cls + "\"" + attributes + " data-n=\"" + std::to_string(bar.n) + "\"" +
         Format(" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\">", x, y, width, kBarHeight) +
         "<title>" + XmlEscape(title) + "</title></rect>\n";
}

// Retried keys: a line from the end of each attempt to the start of the next.
std::string RetryLinks(const std::vector<Attempt>& attempts, const std::map<int, double>& lane_y,
                       const KeyFacts& facts, const TimeAxis& axis) {
  std::map<int64_t, std::vector<const Attempt*>> retried;
  for (const Attempt& a : attempts)
    if (facts.attempts.at(a.seq) > 1 && lane_y.count(a.client)) retried[a.seq].push_back(&a);
  std::string out;
  for (auto& [seq, list] : retried) {
    std::sort(list.begin(), list.end(),
              [](const Attempt* a, const Attempt* b) { return a->attempt < b->attempt; });
    for (size_t i = 1; i < list.size(); ++i) {
      const Attempt& from = *list[i - 1];
      const Attempt& to = *list[i];
      out += Format(
          "<line class=\"retry\" data-k=\"%lld\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
          "y2=\"%.1f\"/>\n",
          static_cast<long long>(seq), axis.X(EndOf(from, axis)),
          lane_y.at(from.client) + kBarHeight / 2, axis.X(to.send_start),
          lane_y.at(to.client) + kBarHeight / 2);
    }
  }
  return out;
}

std::string EventTitle(const Event& e) {
  std::string out = Seconds(e.time) + ": " + e.kind;
  if (e.instance > 0) out += " (instance " + std::to_string(e.instance) + ")";
  if (!e.detail.empty()) out += ": " + e.detail;
  return out;
}

// A vertical mark per event across the lanes, its kind written above them.
std::string EventMarks(const std::vector<Event>& events, const TimeAxis& axis, double bottom) {
  std::string out;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    double x = axis.X(e.time);
    double label_y = kMarkRow * (1 + static_cast<double>(i % static_cast<size_t>(kMarkRows)));
    bool right_edge = x > kWidth - 120;  // label to the left of the mark
    out += Format("<line class=\"mark %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\">",
                  XmlEscape(e.kind).c_str(), x, label_y + 2, x, bottom) +
           "<title>" + XmlEscape(EventTitle(e)) + "</title></line>" +
           Format("<text class=\"label%s\" x=\"%.1f\" y=\"%.1f\">", right_edge ? " left" : "",
                  right_edge ? x - 2 : x + 2, label_y) +
           XmlEscape(e.kind) + "</text>\n";
  }
  return out;
}

// Faint lines at the events, so that the plots show the same moments.
std::string EventGuides(const std::vector<Event>& events, const TimeAxis& axis, double top,
                        double bottom) {
  std::string out;
  for (const Event& e : events)
    out += Format("<line class=\"guide %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                  XmlEscape(e.kind).c_str(), axis.X(e.time), top, axis.X(e.time), bottom);
  return out + "\n";
}

// The timeline SVG. Adds to *anchors the offending keys it gave a bar id.
std::string Timeline(const ScenarioResult& result, const std::vector<Attempt>& attempts,
                     const std::vector<Event>& events, const TimeAxis& axis,
                     std::unordered_set<std::string>* anchors) {
  KeyFacts facts = FactsOf(result, attempts);
  std::vector<int> lanes = LanesOf(attempts, facts);
  const double top = kMarkRow * kMarkRows + 8;
  std::map<int, double> lane_y;
  for (size_t i = 0; i < lanes.size(); ++i) lane_y[lanes[i]] = top + kLane * static_cast<double>(i);
  std::map<int, std::vector<const Attempt*>> by_lane;
  for (const Attempt& a : attempts)
    if (lane_y.count(a.client)) by_lane[a.client].push_back(&a);
  const double bottom = top + kLane * static_cast<double>(std::max<size_t>(lanes.size(), 1));
  std::string out;
  std::set<int> clients;
  for (const Attempt& a : attempts) clients.insert(a.client);
  if (clients.size() > lanes.size())
    out += "<p class=\"note\">" + std::to_string(lanes.size()) + " of " +
           std::to_string(clients.size()) +
           " client lanes are drawn: every lane with an offending attempt, then the first "
           "others.</p>\n";
  out += SvgOpen("timeline", bottom + 20);
  out += axis.Grid(top, bottom);
  for (auto& [client, list] : by_lane) {
    std::sort(list.begin(), list.end(),
              [](const Attempt* a, const Attempt* b) { return a->send_start < b->send_start; });
    double y = lane_y[client];
    out += Format("<text class=\"lane\" x=\"%.1f\" y=\"%.1f\">client %d</text>\n", kLeft - 4,
                  y + kBarHeight - 1, client);
    for (const Bar& bar : BarsOf(list, facts, axis))
      out += BarSvg(bar, y, facts, axis, result.seed, anchors);
  }
  out += RetryLinks(attempts, lane_y, facts, axis);
  out += EventMarks(events, axis, bottom);
  return out + "</svg>\n";
}

// Per time bucket: completions by outcome and their latencies.
struct Bucket {
  int count[3] = {0, 0, 0};  // by Outcome
  std::vector<double> latencies_ms;
};

struct Buckets {
  std::vector<Bucket> of;
  double width = 0, seconds = 0;  // of each, in pixels and in seconds
  double X(size_t b) const { return kLeft + width * static_cast<double>(b); }
};

// About ten completions a bucket on average, so that a short run is not a
// comb of single completions; at most kMaxBuckets.
Buckets BucketsOf(const std::vector<Attempt>& attempts, const TimeAxis& axis) {
  size_t completions = 0;
  for (const Attempt& a : attempts) completions += a.done >= 0 && a.send_start >= 0;
  const size_t n = std::clamp<size_t>(completions / 10, 10, kMaxBuckets);
  const double span = static_cast<double>(axis.end() - axis.begin());
  Buckets buckets{std::vector<Bucket>(n), kPlotWidth / static_cast<double>(n),
                  span / 1e9 / static_cast<double>(n)};
  for (const Attempt& a : attempts) {
    if (a.done < 0 || a.send_start < 0) continue;
    double b = static_cast<double>(a.done - axis.begin()) / span * static_cast<double>(n);
    Bucket& bucket = buckets.of[std::min(static_cast<size_t>(std::max(b, 0.0)), n - 1)];
    ++bucket.count[static_cast<int>(a.outcome)];
    bucket.latencies_ms.push_back(static_cast<double>(a.done - a.send_start) / 1e6);
  }
  return buckets;
}

// The y axis of a plot: its maximum at the top, 0 at the bottom.
std::string YAxis(double top, double bottom, double maximum, const char* unit) {
  return Format(
      "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">%g%s</text>"
      "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\">0</text>\n</svg>\n",
      kLeft - 4, top + 8, maximum, unit, kLeft - 4, bottom);
}

// Latency (median and maximum per bucket) over time, as steps; a gap where
// nothing completed, e.g. while a killed target restarts.
std::string LatencyPlot(Buckets& buckets, const std::vector<Event>& events, const TimeAxis& axis) {
  const double top = 10, height = 150, bottom = top + height;
  const size_t n = buckets.of.size();
  std::vector<double> median(n, -1), highest(n, -1);
  double scale_max = 0;
  for (size_t b = 0; b < n; ++b) {
    std::vector<double>& l = buckets.of[b].latencies_ms;
    if (l.empty()) continue;
    std::nth_element(l.begin(), l.begin() + static_cast<long>(l.size() / 2), l.end());
    median[b] = l[l.size() / 2];
    highest[b] = *std::max_element(l.begin(), l.end());
    scale_max = std::max(scale_max, highest[b]);
  }
  scale_max = RoundUp(scale_max);
  auto steps = [&](const std::vector<double>& values, const char* cls) {
    std::string path;
    for (size_t b = 0; b < n; ++b) {
      if (values[b] < 0) continue;
      double y = bottom - values[b] / scale_max * height;
      if (b > 0 && values[b - 1] >= 0)
        path += Format("V%.1f", y);  // the step from the bucket before
      else
        path += Format("M%.1f,%.1f", buckets.X(b), y);  // after a gap
      path += Format("H%.1f", buckets.X(b + 1));
    }
    return std::string("<path class=\"") + cls + "\" d=\"" + path + "\"/>\n";
  };
  return SvgOpen("latency", bottom + 20) + axis.Grid(top, bottom) +
         EventGuides(events, axis, top, bottom) + steps(highest, "lat-max") +
         steps(median, "lat-p50") + YAxis(top, bottom, scale_max, " ms");
}

// Completions per second, stacked by outcome: the drain window is where the
// ok stops and the refusals start.
std::string ThroughputPlot(const Buckets& buckets, const std::vector<Event>& events,
                           const TimeAxis& axis) {
  const double top = 10, height = 90, bottom = top + height;
  double scale_max = 0;
  for (const Bucket& b : buckets.of)
    scale_max = std::max(scale_max, (b.count[0] + b.count[1] + b.count[2]) / buckets.seconds);
  scale_max = RoundUp(scale_max);
  std::string out = SvgOpen("throughput", bottom + 20) + axis.Grid(top, bottom) +
                    EventGuides(events, axis, top, bottom);
  for (size_t b = 0; b < buckets.of.size(); ++b) {
    double y = bottom;
    for (Outcome o : {Outcome::kOk, Outcome::kUnknown, Outcome::kFailed}) {
      int count = buckets.of[b].count[static_cast<int>(o)];
      if (count == 0) continue;
      double h = count / buckets.seconds / scale_max * height;
      y -= h;
      out += Format(
          "<rect class=\"tp %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
          "height=\"%.1f\"><title>%d %s</title></rect>",
          OutcomeName(o), buckets.X(b), y, buckets.width, h, count, OutcomeName(o));
    }
  }
  return out + "\n" + YAxis(top, bottom, scale_max, "/s");
}

// The offending entries of a check, keys linked to their first bar.
std::string OffendingCell(const CheckResult& c, const std::unordered_set<std::string>& anchors) {
  std::string out;
  size_t shown = std::min(c.offending.size(), kOffendingShown);
  for (size_t i = 0; i < shown; ++i) {
    std::string key = KeyOf(c.offending[i]);
    std::string text = XmlEscape(c.offending[i]);
    out += anchors.count(key) ? "<a href=\"#" + XmlEscape(key) + "\">" + text + "</a><br>\n"
                              : text + "<br>\n";
  }
  if (c.OffendingCount() > shown)
    out += "... " + std::to_string(c.OffendingCount() - shown) + " more in result.json" +
           (c.unlisted ? std::string(" and ") + kOffendingFile : "") + "\n";
  return out;
}

std::string ChecksTable(const ScenarioResult& result,
                        const std::unordered_set<std::string>& anchors) {
  std::string out =
      "<table class=\"checks\">\n<tr><th>check</th><th>status</th><th>what was found</th>"
      "<th>offending</th></tr>\n";
  for (const CheckResult& c : result.checks) {
    const char* status = CheckStatusName(c.status);
    out += std::string("<tr class=\"") + status + "\"><td>" + XmlEscape(c.name) +
           "</td><td class=\"status\">" + status + "</td><td>" + XmlEscape(c.summary) +
           "</td><td>" + OffendingCell(c, anchors) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string FaultsTable(const ScenarioResult& result) {
  if (result.faults.empty()) return "";
  auto time = [](int64_t ns) { return ns < 0 ? std::string("-") : Seconds(ns); };
  std::string out =
      "<table>\n<tr><th>fault</th><th>fired</th><th>trigger</th><th>delivery</th>"
      "<th>instance</th><th>SIGKILL after grace</th></tr>\n";
  for (size_t i = 0; i < result.faults.size(); ++i) {
    const FaultRecord& f = result.faults[i];
    out += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + (f.fired ? "yes" : "no") +
           "</td><td>" + time(f.trigger_time) + "</td><td>" + time(f.delivery_time) + "</td><td>" +
           std::to_string(f.instance) + "</td><td>" +
           (f.escalated ? time(f.escalation_time) : "no") + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string EventsTable(const std::vector<Event>& events) {
  std::string out =
      "<table class=\"events\">\n<tr><th>time</th><th>instance</th><th>event</th>"
      "<th>detail</th></tr>\n";
  for (const Event& e : events)
    out += "<tr><td>" + Seconds(e.time) + "</td><td>" +
           (e.instance > 0 ? std::to_string(e.instance) : "") + "</td><td>" + XmlEscape(e.kind) +
           "</td><td>" + XmlEscape(e.detail) + "</td></tr>\n";
  return out + "</table>\n";
}

const char* kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.verdict{display:inline-block;padding:.1em .6em;border-radius:4px;color:#fff;background:#c33}
.verdict.met{background:#2a2}
table{border-collapse:collapse;margin:.5em 0 1.2em}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
tr.fail td.status{color:#c33;font-weight:bold} tr.pass td.status{color:#2a2}
tr.skipped,tr.info{color:#777}
svg{display:block;max-width:100%;height:auto;font-size:10px}
.bar.ok,.tp.ok{fill:#3a3}.bar.failed,.tp.failed{fill:#d33}.bar.unknown,.tp.unknown{fill:#e90}
.bar.v{stroke:#90c;stroke-width:2}.bar:target{stroke:#00f;stroke-width:3}
.bar.hl,.retry.hl{stroke:#000;stroke-width:2}
.retry{stroke:#555;stroke-width:.8;stroke-dasharray:2 2}
.mark{stroke:#06c;stroke-width:1}.mark.signal,.mark.escalation{stroke:#c00;stroke-width:1.5}
.mark.target_exit{stroke:#000}.label{fill:#06c}.label.left{text-anchor:end}
.guide{stroke:#06c;stroke-opacity:.35}.guide.signal,.guide.escalation{stroke:#c00}
.grid{stroke:#eee}.tick{fill:#666;text-anchor:middle}.lane,.axis{fill:#666;text-anchor:end}
.lat-max{fill:none;stroke:#e90}.lat-p50{fill:none;stroke:#06c;stroke-width:1.5}
#info{position:sticky;top:0;background:#ffd;border:1px solid #cc9;padding:.2em .5em;min-height:1.4em}
.note{color:#777}
</style>
)";

// Hovering a bar shows its details and lights up every attempt of its key
// (and the retry links between them). The caption counts what was drawn.
const char* kScript = R"(<script>
(function () {
  var info = document.getElementById('info');
  function light(key, on) {
    document.querySelectorAll('[data-k="' + key + '"]').forEach(function (e) {
      e.classList.toggle('hl', on);
    });
  }
  var timeline = document.getElementById('timeline');
  timeline.addEventListener('mouseover', function (event) {
    var bar = event.target;
    if (!bar.classList.contains('bar')) return;
    info.textContent = bar.querySelector('title').textContent;
    if (bar.dataset.k) light(bar.dataset.k, true);
  });
  timeline.addEventListener('mouseout', function (event) {
    if (event.target.dataset && event.target.dataset.k) light(event.target.dataset.k, false);
  });
  // What the page shows, counted in the browser's DOM (tests read it back).
  var bars = timeline.querySelectorAll('.bar'), attempts = 0;
  bars.forEach(function (bar) { attempts += Number(bar.dataset.n); });
  var marks = timeline.querySelectorAll('.mark').length;
  info.textContent = attempts + ' attempts in ' + bars.length + ' bars, ' + marks +
      ' events: hover a bar for its key, status and timings';
  var page = document.documentElement.dataset;
  page.attempts = attempts;
  page.bars = bars.length;
  page.marks = marks;
  page.report = 'ready';
})();
</script>
)";

// The head of a page: title and style.
std::string PageHead(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         XmlEscape(title) + "</title>\n" + kStyle + "</head>\n<body>\n";
}

std::string Header(const ScenarioResult& r) {
  std::string verdict = VerdictName(r.verdict);
  return "<h1>" + XmlEscape(r.name) + " <span class=\"verdict" +
         (r.verdict == Verdict::kMet ? " met" : "") + "\">" + verdict + "</span></h1>\n<p>" +
         XmlEscapeLines(r.message) + "</p>\n<p>" + XmlEscape(r.file) + " &middot; seed " +
         std::to_string(r.seed) + " &middot; run " + XmlEscape(r.run_id) + " &middot; " +
         Format(
             "%lld requests in %lld attempts: %lld ok, %lld failed, %lld unknown &middot; "
             "%.2f s",
             static_cast<long long>(r.requests), static_cast<long long>(r.attempts),
             static_cast<long long>(r.ok), static_cast<long long>(r.failed),
             static_cast<long long>(r.unknown), r.total) +
         "</p>\n";
}

}  // namespace

std::string HtmlReport(const ScenarioResult& result, const std::vector<Attempt>& attempts,
                       const std::vector<Event>& unsorted_events) {
  std::vector<Event> events = unsorted_events;
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
  TimeAxis axis = AxisOf(attempts, events);
  std::unordered_set<std::string> anchors;
  std::string timeline = Timeline(result, attempts, events, axis, &anchors);
  Buckets buckets = BucketsOf(attempts, axis);
  return PageHead(result.name + ": " + VerdictName(result.verdict)) + Header(result) +
         "<h2>Checks</h2>\n" + ChecksTable(result, anchors) + FaultsTable(result) +
         "<h2>Timeline</h2>\n<p class=\"note\">A lane per client, a bar per attempt: "
         "<span style=\"color:#3a3\">ok</span>, <span style=\"color:#d33\">failed</span>, "
         "<span style=\"color:#e90\">unknown</span>; outlined in violet: an offending key; "
         "dashed: a retry of the same key; vertical lines: events.</p>\n"
         "<div id=\"info\">hover a bar for its key, status and timings</div>\n" +
         timeline +
         "<h2>Latency</h2>\n<p class=\"note\">per completion time: "
         "<span style=\"color:#06c\">median</span> and <span style=\"color:#e90\">maximum"
         "</span></p>\n" +
         LatencyPlot(buckets, events, axis) +
         "<h2>Throughput</h2>\n<p class=\"note\">completions per second by outcome</p>\n" +
         ThroughputPlot(buckets, events, axis) + "<h2>Events</h2>\n" + EventsTable(events) +
         kScript + "</body>\n</html>\n";
}

std::string RunIndexHtml(const std::string& dir, const std::vector<ScenarioResult>& results,
                         const std::string& matrix_html) {
  int met = 0;
  for (const ScenarioResult& r : results) met += r.verdict == Verdict::kMet;
  std::string out = PageHead("lastcall: " + std::to_string(met) + " of " +
                             std::to_string(results.size()) + " met") +
                    "<h1>lastcall: " + std::to_string(met) + " of " +
                    std::to_string(results.size()) +
                    " scenario runs met their expectation</h1>\n<table class=\"runs\">\n"
                    "<tr><th>scenario</th><th>verdict</th><th>requests</th>"
                    "<th>ok / failed / unknown</th><th>time</th><th>failed checks</th>"
                    "<th>why</th></tr>\n";
  for (const ScenarioResult& r : results) {
    std::string failed;
    for (const CheckResult& c : r.checks)
      if (c.status == CheckStatus::kFail) failed += (failed.empty() ? "" : ", ") + c.name;
    std::string name = XmlEscape(r.name);
    if (!r.report_dir.empty())  // a run that could not make its folder has no page
      name = "<a href=\"" +
             UrlPath(std::filesystem::path(r.report_dir).lexically_relative(dir).string()) +
             "/index.html\">" + name + "</a>";
    out += "<tr><td>" + name + "</td><td><span class=\"verdict" +
           (r.verdict == Verdict::kMet ? " met" : "") + "\">" + VerdictName(r.verdict) +
           "</span></td>" +
           Format("<td>%lld</td><td>%lld / %lld / %lld</td><td>%.2f s</td>",
                  static_cast<long long>(r.requests), static_cast<long long>(r.ok),
                  static_cast<long long>(r.failed), static_cast<long long>(r.unknown), r.total) +
           "<td>" + XmlEscape(failed) + "</td><td>" + XmlEscapeLines(r.message) + "</td></tr>\n";
  }
  return out + "</table>\n" + matrix_html + "</body>\n</html>\n";
}

std::string MatrixTablesHtml(const std::vector<ScenarioResult>& results) {
  std::string out;
  for (const MatrixTable& table : MatrixTables(results)) {
    out += "<h2>Matrix " + XmlEscape(table.name) + "</h2>\n<table class=\"runs\">\n";
    for (size_t row = 0; row < table.cells.size(); ++row) {
      const std::string cell = row == 0 ? "th" : "td";  // the first row names the columns
      out += "<tr>";
      for (const std::string& text : table.cells[row])
        out += "<" + cell + ">" + XmlEscape(text) + "</" + cell + ">";
      out += "</tr>\n";
    }
    out += "</table>\n";
  }
  return out;
}

}  // namespace lastcall
