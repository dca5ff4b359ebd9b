//! Turning transport lines into log entries: a message with its continuation lines, a whole
//! traceback, or a `-j` JSON dump becomes one [`LogEntry`].
//!
//! Rules (ProxLB's output, `utils/logger.py`, and Python's traceback printing):
//! - A head line (`… - ProxLB - LEVEL - …`, or 1.0's `<prio> ProxLB: …`) starts a message.
//! - A line that is not a head continues the message before it on the same stream (pydantic
//!   reports, multi-line `str(exc)`), unless it is a known `print()` of ProxLB (e.g. `Daemon
//!   mode not active - stopping.`), `{` (start of a JSON dump) or a traceback header: those
//!   start an entry of their own. With no message before it, it is an entry of its own.
//! - `Traceback (most recent call last):` starts a traceback; every following non-head line of
//!   the same stream belongs to it (chained tracebacks included). Each stream keeps its own
//!   pending entry, so a traceback on stderr is not cut by stdout lines arriving meanwhile.
//! - A message whose template cannot have continuation lines ([`LogEvent::may_continue`]) is
//!   emitted at once, so live lines get no added latency. Others wait for the next line of
//!   their stream, [`Assembler::flush_if_idle`] ([`IDLE_FLUSH_MS`] without a new line) or
//!   [`Assembler::flush`] (end of the stream).
//!
//! Entries come out with `seq = 0`; the log service numbers them.

use super::entry::message_event;
use super::event::LogEvent;
use super::parse::{parse_line, parse_message, ParsedLine, TRACEBACK_HEADER};
use super::{Level, LogEntry, LogStream, RawLine};

/// A pending multi-line entry is emitted after this long without a new line on its stream.
pub const IDLE_FLUSH_MS: i64 = 250;
/// A pending traceback waits longer: Python reads each frame's source file while printing it,
/// which on a busy disk can pause for longer than [`IDLE_FLUSH_MS`] between two lines, and a
/// cut traceback would show its tail as stray lines. A crash ends the stream, which flushes at
/// once, so this delays only a traceback a running ProxLB logs and survives.
pub const TRACEBACK_IDLE_FLUSH_MS: i64 = 3_000;
/// Most lines in one entry; a longer run of continuation lines is split (memory bound).
pub const MAX_ENTRY_LINES: usize = 2_000;
/// Most bytes in one entry (memory bound), split like [`MAX_ENTRY_LINES`].
pub const MAX_ENTRY_BYTES: usize = 512 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Message,
    Traceback,
    Json,
}

#[derive(Clone, Debug)]
struct Pending {
    kind: Kind,
    at_unix_ms: i64,
    /// Latest transport or receive time of its lines: the idle timeout counts from here.
    last_unix_ms: i64,
    stream: LogStream,
    level: Option<Level>,
    proxlb_time: Option<String>,
    /// The head line's message; `None` when the entry began with a non-head line.
    head: Option<String>,
    lines: Vec<String>,
    bytes: usize,
}

impl Pending {
    fn new(kind: Kind, at: i64, stream: LogStream, text: &str) -> Pending {
        Pending {
            kind,
            at_unix_ms: at,
            last_unix_ms: at,
            stream,
            level: None,
            proxlb_time: None,
            head: None,
            lines: vec![text.to_string()],
            bytes: text.len(),
        }
    }

    fn push(&mut self, at: i64, text: &str) {
        self.lines.push(text.to_string());
        self.bytes += text.len() + 1;
        self.last_unix_ms = self.last_unix_ms.max(at);
    }

    /// How long this entry waits for another line before it is emitted.
    fn idle_flush_ms(&self) -> i64 {
        match self.kind {
            Kind::Traceback => TRACEBACK_IDLE_FLUSH_MS,
            Kind::Message | Kind::Json => IDLE_FLUSH_MS,
        }
    }

    fn is_full(&self) -> bool {
        self.lines.len() >= MAX_ENTRY_LINES || self.bytes >= MAX_ENTRY_BYTES
    }

    fn only_blank(&self) -> bool {
        self.head.is_none() && self.lines.iter().all(|l| l.trim().is_empty())
    }

    /// The message text: the head's message plus continuation lines; the whole text of a
    /// traceback or JSON dump; a non-head message without its surrounding blank lines.
    fn message(&self) -> String {
        match (self.kind, &self.head) {
            (Kind::Traceback | Kind::Json, _) => self.lines.join("\n"),
            (Kind::Message, Some(head)) => {
                let mut message = head.clone();
                for l in self.lines.iter().skip(1) {
                    message.push('\n');
                    message.push_str(l);
                }
                message
            }
            (Kind::Message, None) => {
                // Blank lines around a print (`"\n ProxLB has been … terminated by user."`)
                // stay in `raw` but not in the message.
                let start = self.lines.iter().position(|l| !l.trim().is_empty());
                let end = self.lines.iter().rposition(|l| !l.trim().is_empty());
                match (start, end) {
                    (Some(s), Some(e)) => self.lines[s..=e].join("\n"),
                    _ => String::new(),
                }
            }
        }
    }

    fn finish(self) -> LogEntry {
        let message = self.message();
        let raw = self.lines.join("\n");
        LogEntry {
            seq: 0,
            at_unix_ms: self.at_unix_ms,
            stream: self.stream,
            level: self.level,
            proxlb_time: self.proxlb_time,
            event: LogEntry::event_of(&message, &raw),
            message,
            raw,
        }
    }

    /// Whether this entry can be emitted now: a complete single message whose template takes
    /// no continuation lines.
    fn is_closed(&self) -> bool {
        if self.kind != Kind::Message || self.only_blank() {
            return false;
        }
        !message_event(&self.message()).may_continue()
    }
}

/// Assembles [`RawLine`]s into [`LogEntry`]s incrementally. Never panics; every line ends up in
/// exactly one entry's `raw`, in order per stream.
#[derive(Clone, Debug, Default)]
pub struct Assembler {
    /// One pending entry per [`LogStream`] (stdout, stderr, journal).
    slots: [Option<Pending>; 3],
}

fn slot_of(stream: LogStream) -> usize {
    match stream {
        LogStream::Stdout => 0,
        LogStream::Stderr => 1,
        LogStream::Journal => 2,
    }
}

impl Assembler {
    /// An assembler with nothing pending.
    pub fn new() -> Assembler {
        Assembler::default()
    }

    /// Feeds one line; returns the entries it completed (zero or more, oldest first). A line
    /// holding `\n` (a journald `MESSAGE`) counts as several lines with the same time. The
    /// idle timeout counts from the line's transport time; see [`Assembler::push_received`]
    /// for lines replayed from history.
    pub fn push(&mut self, line: RawLine) -> Vec<LogEntry> {
        let at = line.at_unix_ms;
        self.push_received(line, at)
    }

    /// Like [`Assembler::push`], with the time the line was received (`now_ms`, same clock as
    /// [`Assembler::flush_if_idle`]). The idle timeout then counts from the later of the two,
    /// so a replay of old lines (Docker `tail`, journald history) is not cut into pieces by a
    /// timer tick that falls between two lines of one traceback.
    pub fn push_received(&mut self, line: RawLine, now_ms: i64) -> Vec<LogEntry> {
        let mut out = Vec::new();
        for piece in line.text.split('\n') {
            self.push_one(line.at_unix_ms, line.stream, piece, &mut out);
        }
        if let Some(p) = &mut self.slots[slot_of(line.stream)] {
            p.last_unix_ms = p.last_unix_ms.max(now_ms);
        }
        out
    }

    /// Emits the pending entries whose stream has been quiet for [`IDLE_FLUSH_MS`]
    /// ([`TRACEBACK_IDLE_FLUSH_MS`] for a traceback) at `now_ms`
    /// (transport clock). Call it from a timer while a source is live; after replaying history
    /// call [`Assembler::flush`] instead.
    pub fn flush_if_idle(&mut self, now_ms: i64) -> Vec<LogEntry> {
        let mut out: Vec<LogEntry> = Vec::new();
        for slot in &mut self.slots {
            let idle = slot
                .as_ref()
                .is_some_and(|p| now_ms.saturating_sub(p.last_unix_ms) >= p.idle_flush_ms());
            if idle {
                if let Some(p) = slot.take() {
                    out.push(p.finish());
                }
            }
        }
        out.sort_by_key(|e| e.at_unix_ms);
        out
    }

    /// Emits everything pending (end of a stream, a process exited, a replay finished).
    pub fn flush(&mut self) -> Vec<LogEntry> {
        let mut out: Vec<LogEntry> = self
            .slots
            .iter_mut()
            .filter_map(|s| s.take().map(Pending::finish))
            .collect();
        out.sort_by_key(|e| e.at_unix_ms);
        out
    }

    /// When [`Assembler::flush_if_idle`] will next emit something, if anything is pending.
    pub fn next_idle_deadline(&self) -> Option<i64> {
        self.slots
            .iter()
            .flatten()
            .map(|p| p.last_unix_ms.saturating_add(p.idle_flush_ms()))
            .min()
    }

    /// Whether an entry is waiting for more lines.
    pub fn has_pending(&self) -> bool {
        self.slots.iter().any(Option::is_some)
    }

    fn push_one(&mut self, at: i64, stream: LogStream, text: &str, out: &mut Vec<LogEntry>) {
        let slot = &mut self.slots[slot_of(stream)];
        let (level, time, message) = match parse_line(text) {
            ParsedLine::Head {
                time,
                level,
                message,
            } => (level, Some(time), message),
            ParsedLine::Legacy { level, message } => (level, None, message),
            ParsedLine::Text(t) => {
                Self::push_text(slot, at, stream, t, out);
                return;
            }
        };
        if let Some(p) = slot.take() {
            out.push(p.finish());
        }
        let mut p = Pending::new(Kind::Message, at, stream, text);
        p.level = Some(level);
        p.proxlb_time = time.map(str::to_string);
        p.head = Some(message.to_string());
        Self::hold_or_emit(slot, p, out);
    }

    fn push_text(
        slot: &mut Option<Pending>,
        at: i64,
        stream: LogStream,
        t: &str,
        out: &mut Vec<LogEntry>,
    ) {
        if slot.as_ref().is_some_and(Pending::is_full) {
            if let Some(p) = slot.take() {
                out.push(p.finish());
            }
        }
        if t == TRACEBACK_HEADER {
            match slot {
                Some(p) if p.kind == Kind::Traceback => p.push(at, t),
                _ => {
                    if let Some(p) = slot.take() {
                        out.push(p.finish());
                    }
                    *slot = Some(Pending::new(Kind::Traceback, at, stream, t));
                }
            }
            return;
        }
        let Some(p) = slot else {
            let kind = if t == "{" { Kind::Json } else { Kind::Message };
            Self::hold_or_emit(slot, Pending::new(kind, at, stream, t), out);
            return;
        };
        match p.kind {
            Kind::Traceback => p.push(at, t),
            Kind::Json => {
                p.push(at, t);
                if t == "}" {
                    if let Some(p) = slot.take() {
                        out.push(p.finish());
                    }
                }
            }
            Kind::Message => {
                let starts_own = t == "{"
                    || (!t.trim().is_empty()
                        && !p.only_blank()
                        && parse_message(t) != LogEvent::Other);
                if starts_own {
                    if let Some(p) = slot.take() {
                        out.push(p.finish());
                    }
                    let kind = if t == "{" { Kind::Json } else { Kind::Message };
                    Self::hold_or_emit(slot, Pending::new(kind, at, stream, t), out);
                } else {
                    p.push(at, t);
                    if p.head.is_none() && p.is_closed() {
                        if let Some(p) = slot.take() {
                            out.push(p.finish());
                        }
                    }
                }
            }
        }
    }

    fn hold_or_emit(slot: &mut Option<Pending>, p: Pending, out: &mut Vec<LogEntry>) {
        if p.is_closed() {
            out.push(p.finish());
        } else {
            *slot = Some(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: &str = "2026-11-22 17:49:17,282";

    fn line(at: i64, stream: LogStream, text: &str) -> RawLine {
        RawLine {
            at_unix_ms: at,
            stream,
            text: text.into(),
        }
    }

    fn out(at: i64, text: &str) -> RawLine {
        line(at, LogStream::Stdout, text)
    }

    fn err(at: i64, text: &str) -> RawLine {
        line(at, LogStream::Stderr, text)
    }

    fn run(lines: Vec<RawLine>) -> Vec<LogEntry> {
        let mut asm = Assembler::new();
        let mut all: Vec<LogEntry> = lines.into_iter().flat_map(|l| asm.push(l)).collect();
        all.extend(asm.flush());
        all
    }

    #[test]
    fn closed_templates_are_emitted_at_once() {
        let mut asm = Assembler::new();
        let got = asm.push(out(
            1,
            &format!("{T} - ProxLB - INFO - Balancing: Starting to migrate VM guest web02 from node1 to node2."),
        ));
        assert_eq!(got.len(), 1);
        assert!(matches!(got[0].event, LogEvent::MigrationStarted { .. }));
        assert_eq!(got[0].seq, 0);
        assert!(!asm.has_pending());
    }

    #[test]
    fn open_messages_wait_for_the_idle_timeout() {
        let mut asm = Assembler::new();
        assert!(asm
            .push(out(1_000, &format!("{T} - ProxLB - DEBUG - Got pool: web")))
            .is_empty());
        assert_eq!(asm.next_idle_deadline(), Some(1_000 + IDLE_FLUSH_MS));
        assert!(asm.flush_if_idle(1_000 + IDLE_FLUSH_MS - 1).is_empty());
        let got = asm.flush_if_idle(1_000 + IDLE_FLUSH_MS);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message, "Got pool: web");
        assert_eq!(got[0].event, LogEvent::Other);
        assert_eq!(asm.next_idle_deadline(), None);
    }

    #[test]
    fn replayed_lines_wait_from_their_receive_time() {
        let mut asm = Assembler::new();
        // Lines from an hour ago, received now (10_000_000).
        assert!(asm
            .push_received(err(1_000, TRACEBACK_HEADER), 10_000_000)
            .is_empty());
        assert!(asm.flush_if_idle(10_000_100).is_empty());
        assert!(asm
            .push_received(err(1_001, "KeyError: 'x'"), 10_000_200)
            .is_empty());
        assert!(asm
            .flush_if_idle(10_000_200 + TRACEBACK_IDLE_FLUSH_MS - 1)
            .is_empty());
        let got = asm.flush_if_idle(10_000_200 + TRACEBACK_IDLE_FLUSH_MS);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].at_unix_ms, 1_000);
        assert!(
            matches!(&got[0].event, LogEvent::Traceback { exception, .. } if exception == "KeyError")
        );
    }

    #[test]
    fn a_traceback_printed_slowly_stays_one_entry() {
        // Python pauses between frames while it reads their source files; a pause longer than
        // a message's idle timeout must not cut the traceback.
        let mut asm = Assembler::new();
        let lines = [
            TRACEBACK_HEADER,
            "  File \"/usr/lib/python3/dist-packages/proxlb/main.py\", line 96, in main",
            "    Tags.get_tags_from_guests(proxmox_api, node, guest['vmid'], 'vm')",
            "proxmoxer.core.ResourceException: 500 Internal Server Error: Configuration file \
             'nodes/pve2/qemu-server/101.conf' does not exist",
        ];
        let mut at = 1_000;
        let mut got = Vec::new();
        for line in lines {
            got.extend(asm.push(err(at, line)));
            at += IDLE_FLUSH_MS * 4;
            got.extend(asm.flush_if_idle(at));
        }
        assert!(got.is_empty(), "{got:?}");
        assert_eq!(
            asm.next_idle_deadline(),
            Some(at - IDLE_FLUSH_MS * 4 + TRACEBACK_IDLE_FLUSH_MS)
        );
        got.extend(asm.flush());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].raw.lines().count(), 4);
        assert_eq!(got[0].effective_level(), Level::Critical);
    }

    #[test]
    fn pydantic_errors_continue_their_message() {
        let report = [
            "1 validation error for Config",
            "proxmox_api",
            "  Field required [type=missing, input_value={'balancing': {}}, input_type=dict]",
            "    For further information visit https://errors.pydantic.dev/2.11/v/missing",
        ];
        let mut lines = vec![out(
            1,
            &format!("Error parsing /etc/proxlb/proxlb.yaml: {}", report[0]),
        )];
        lines.extend(report[1..].iter().map(|l| out(2, l)));
        lines.push(out(
            3,
            &format!(
                "{T} - ProxLB - CRITICAL - Error parsing /etc/proxlb/proxlb.yaml: {}",
                report[0]
            ),
        ));
        lines.extend(report[1..].iter().map(|l| out(4, l)));
        let got = run(lines);
        assert_eq!(got.len(), 2, "{got:#?}");
        for (e, level) in got.iter().zip([None, Some(Level::Critical)]) {
            assert_eq!(e.level, level);
            assert_eq!(
                e.event,
                LogEvent::ConfigInvalid {
                    path: "/etc/proxlb/proxlb.yaml".into(),
                    error: report.join("\n")
                }
            );
        }
        assert_eq!(got[1].raw.lines().count(), 4);
    }

    #[test]
    fn a_traceback_on_stderr_is_one_entry_despite_stdout_lines_in_between() {
        let got = run(vec![
            out(1, &format!("{T} - ProxLB - INFO - Using config path: /etc/proxlb/proxlb.yaml")),
            err(2, TRACEBACK_HEADER),
            err(2, "  File \"<frozen runpy>\", line 198, in _run_module_as_main"),
            out(3, &format!("{T} - ProxLB - DEBUG - Starting: get_nodes.")),
            err(4, "  File \"/opt/proxlb/lib/python3.11/site-packages/proxlb/__main__.py\", line 106, in <module>"),
            err(4, "    nodes = Nodes.get_nodes(proxmox_api, proxlb_config)"),
            err(4, "proxmoxer.core.ResourceException: 500 Internal Server Error: injected"),
        ]);
        assert_eq!(got.len(), 3);
        let tb = got
            .iter()
            .find(|e| e.stream == LogStream::Stderr)
            .expect("traceback");
        assert_eq!(
            tb.event,
            LogEvent::Traceback {
                exception: "proxmoxer.core.ResourceException".into(),
                detail: "500 Internal Server Error: injected".into()
            }
        );
        assert_eq!(tb.raw.lines().count(), 5);
        assert_eq!(tb.at_unix_ms, 2);
        assert_eq!(tb.effective_level(), Level::Critical);
    }

    #[test]
    fn on_the_journal_a_head_line_ends_a_traceback() {
        let j = |at, t: &str| line(at, LogStream::Journal, t);
        let got = run(vec![
            j(1, TRACEBACK_HEADER),
            j(1, "  File \"x.py\", line 1, in f"),
            j(1, "KeyError: 'node'"),
            j(
                2,
                &format!("{T} - ProxLB - INFO - Using config path: /etc/proxlb/proxlb.yaml"),
            ),
        ]);
        assert_eq!(got.len(), 2);
        assert!(
            matches!(&got[0].event, LogEvent::Traceback { exception, .. } if exception == "KeyError")
        );
        assert!(matches!(got[1].event, LogEvent::ConfigPath { .. }));
    }

    #[test]
    fn prints_of_known_messages_stand_alone() {
        let got = run(vec![
            out(
                1,
                &format!("{T} - ProxLB - CRITICAL - No valid Proxmox API hosts found."),
            ),
            out(1, "No valid Proxmox API hosts found."),
        ]);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|e| e.event == LogEvent::NoValidApiHosts));
        assert_eq!(got[1].level, None);
    }

    #[test]
    fn sigint_output_is_one_entry_with_its_blank_line() {
        let got = run(vec![
            out(
                1,
                &format!("{T} - ProxLB - INFO - Daemon mode active: Next run in: 1 minutes."),
            ),
            out(2, ""),
            out(2, " ProxLB has been successfully terminated by user."),
        ]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].event, LogEvent::TerminatedByUser);
        assert_eq!(
            got[1].raw,
            "\n ProxLB has been successfully terminated by user."
        );
    }

    #[test]
    fn a_json_dump_is_one_entry() {
        let got = run(vec![
            out(1, &format!("{T} - ProxLB - INFO - Finished: Balancing loop for guests. All guests processed and migrations completed.")),
            out(2, "{"),
            out(2, "    \"groups\": {"),
            out(2, "    }"),
            out(2, "}"),
            out(3, "Daemon mode not active - stopping."),
        ]);
        let events: Vec<&LogEvent> = got.iter().map(|e| &e.event).collect();
        assert_eq!(
            events,
            vec![
                &LogEvent::BalancingFinished,
                &LogEvent::JsonOutput,
                &LogEvent::DaemonNotActive
            ]
        );
        assert_eq!(got[1].raw.lines().count(), 4);
    }

    #[test]
    fn a_journal_message_with_line_breaks_is_split_into_lines() {
        let got = run(vec![line(
            5,
            LogStream::Journal,
            &format!(
                "{T} - ProxLB - ERROR - Proxmox API error: 500 Internal Server Error\nsecond line"
            ),
        )]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].event,
            LogEvent::ApiError {
                error: "500 Internal Server Error\nsecond line".into()
            }
        );
    }

    #[test]
    fn endless_continuations_are_split_to_bound_memory() {
        let mut lines = vec![out(
            0,
            &format!("{T} - ProxLB - ERROR - Proxmox API error: x"),
        )];
        lines.extend((0..MAX_ENTRY_LINES + 10).map(|i| out(1, &format!("line {i}"))));
        let joined: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
        let got = run(lines);
        assert!(got.len() >= 2);
        assert!(got.iter().all(|e| e.raw.lines().count() <= MAX_ENTRY_LINES));
        let raws: Vec<&str> = got.iter().map(|e| e.raw.as_str()).collect();
        assert_eq!(raws.join("\n"), joined.join("\n"));
    }

    /// A line shaped like ProxLB's output, or junk.
    fn any_line() -> impl Strategy<Value = String> {
        prop_oneof![
            ("[0-4]", "[^\n]{0,40}").prop_map(|(l, m)| {
                let level = Level::ALL[l.parse::<usize>().unwrap_or(0)];
                format!("{T} - ProxLB - {level} - {m}")
            }),
            Just(format!(
                "{T} - ProxLB - INFO - Daemon mode active: Next run in: 1 minutes."
            )),
            Just(TRACEBACK_HEADER.to_string()),
            Just("  File \"x.py\", line 1, in f".to_string()),
            Just("KeyError: 'x'".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just(String::new()),
            Just("Daemon mode not active - stopping.".to_string()),
            Just("<6> ProxLB: Info: [daemon]: x".to_string()),
            "[^\n]{0,40}",
            "(?s).{0,40}",
        ]
    }

    fn any_stream() -> impl Strategy<Value = LogStream> {
        prop_oneof![
            Just(LogStream::Stdout),
            Just(LogStream::Stderr),
            Just(LogStream::Journal)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Never panics; per stream, the entries' raw texts, in order, are exactly the lines.
        #[test]
        fn raw_text_is_preserved_per_stream(
            input in proptest::collection::vec((any_line(), any_stream(), 0i64..400, any::<bool>()), 0..60)
        ) {
            let mut asm = Assembler::new();
            let mut entries = Vec::new();
            let mut at = 0i64;
            let mut sent: [Vec<String>; 3] = Default::default();
            for (text, stream, gap, tick) in input {
                at += gap;
                sent[slot_of(stream)].push(text.clone());
                entries.extend(asm.push(RawLine { at_unix_ms: at, stream, text }));
                if tick {
                    entries.extend(asm.flush_if_idle(at));
                }
            }
            entries.extend(asm.flush());
            prop_assert!(!asm.has_pending());
            // Read back from JSON, every entry is the same (the event is re-derived).
            for e in &entries {
                let json = serde_json::to_string(e).map_err(|x| TestCaseError::fail(x.to_string()))?;
                let back: LogEntry = serde_json::from_str(&json).map_err(|x| TestCaseError::fail(x.to_string()))?;
                prop_assert_eq!(&back, e);
            }
            for stream in [LogStream::Stdout, LogStream::Stderr, LogStream::Journal] {
                let raws: Vec<&str> = entries.iter().filter(|e| e.stream == stream).map(|e| e.raw.as_str()).collect();
                prop_assert_eq!(raws.join("\n"), sent[slot_of(stream)].join("\n"));
                // Nothing dropped, not even blank lines: as many lines out as in.
                let lines_out: usize = raws.iter().map(|r| r.split('\n').count()).sum();
                let lines_in: usize = sent[slot_of(stream)].iter().map(|t| t.split('\n').count()).sum();
                prop_assert_eq!(lines_out, lines_in);
            }
        }
    }
}
