//! One shell model for RUN: the text split into simple commands (on `;`, `&&`, `||`, `|`, `&`,
//! newlines and grouping), each a list of words with quotes and escapes resolved. Rules ask it
//! questions (`is`, `subcommand`, `has_flag`, `args`) instead of searching the text, as hadolint
//! asks ShellCheck's parser.
//!
//! Hand-written on purpose: the rules need commands and words, not a full POSIX AST, and the
//! full parsers (brush-parser, yash-syntax, conch-parser) reject much of what real RUN lines
//! hold (BuildKit variables, half-written heredocs, shells other than sh) where a rule should
//! still see the commands. This model never fails: odd text gives odd words, never an error.

use crate::keyword::Keyword;
use crate::parser::Instruction;

/// Shells whose `-c` argument is a script, and which read a heredoc on stdin as one.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"];

/// The commands a RUN runs, read by this model.
///
/// Shell form: its text. Exec form: the `-c` script when the program is a shell
/// (`["sh", "-c", "apk add x"]`), otherwise the words as one command. A heredoc body is read as
/// script when it is what the shell runs (`RUN <<EOF`, `RUN bash <<EOF`), and left alone when it is
/// another program's input (`RUN python3 <<EOF`). Anything but RUN has no commands.
pub fn run_commands(ins: &Instruction) -> Vec<Command> {
    if !ins.is(Keyword::Run) {
        return Vec::new();
    }
    let values = ins.values();
    if ins.json {
        let words: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let none = vec![None; words.len()];
        let Some(first) = Command::from_words(words.clone(), none) else {
            return Vec::new();
        };
        if SHELLS.contains(&first.name()) {
            if let Some(i) = words
                .iter()
                .position(|w| w == "-c" || w.starts_with("-c") && w.len() == 2)
            {
                if let Some(script) = words.get(i + 1) {
                    return commands(script);
                }
            }
        }
        return vec![first];
    }
    let text = values.join(" ");
    let mut out = match ins.value_offset() {
        Some(base) => commands_located(&text, &|o| ins.source_position(base + o)),
        None => commands(&text),
    };
    for h in &ins.heredocs {
        // The command the heredoc feeds: the one whose words hold its `<<NAME` marker.
        let feeds = out.iter().find(|c| {
            c.words
                .iter()
                .any(|w| w.starts_with("<<") && w.contains(&h.name))
        });
        let is_script = match feeds {
            None => true,
            Some(c) => c.words.iter().all(|w| w.starts_with("<<")) || SHELLS.contains(&c.name()),
        };
        if is_script {
            // Body lines are whole file lines (chomped tabs aside).
            let content = &h.content;
            let at = |o: usize| {
                let before = &content[..o.min(content.len())];
                let line = h.start_line + before.matches('\n').count();
                let col = o - before.rfind('\n').map_or(0, |n| n + 1);
                (line, col)
            };
            out.extend(commands_located(content, &at));
        }
    }
    out
}

/// One simple command: its words, and apart from them the `VAR=value` assignments written
/// before it (`CGO_ENABLED=0 go build`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<String>,
    pub env: Vec<String>,
    /// Where each of `words` is in the file, when known (shell form and heredoc scripts).
    pub spans: Vec<Option<WordSpan>>,
    /// Where the whole command is, assignments before it included.
    pub span: Option<WordSpan>,
}

/// A stretch of the Dockerfile: 1-based lines, 0-based byte offsets in them, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordSpan {
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
}

impl WordSpan {
    fn join(a: WordSpan, b: WordSpan) -> WordSpan {
        WordSpan {
            end_line: b.end_line,
            end_col: b.end_col,
            ..a
        }
    }
}

/// Words that start a compound command or are keywords: a command follows them.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac", "!",
    "{", "}", "time",
];

/// Commands that run their arguments as another command.
const WRAPPERS: &[&str] = &[
    "sudo", "env", "nice", "nohup", "command", "exec", "xargs", "doas",
];

/// Options of the package managers that take a value, so that the value is not mistaken for the
/// subcommand (`apt-get -o Dpkg::Options::=--force-confnew install`).
const VALUE_OPTS: &[&str] = &[
    "-o",
    "-c",
    "-t",
    "-X",
    "--option",
    "--config-file",
    "--target-release",
    "--repository",
    "--root",
    "--virtual",
    "--enablerepo",
    "--disablerepo",
];

pub fn commands(text: &str) -> Vec<Command> {
    let mut out = commands_located(text, &|o| (0, o));
    for c in &mut out {
        c.spans = vec![None; c.words.len()];
        c.span = None;
    }
    out
}

/// [`commands`], with each word's place: `at` maps a byte offset of `text` to (line, byte
/// offset in that line).
pub fn commands_located(text: &str, at: &dyn Fn(usize) -> (usize, usize)) -> Vec<Command> {
    let mut out = Vec::new();
    let mut words: Vec<(String, WordSpan)> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    let span = |a: usize, b: usize| {
        let (line, col) = at(a);
        let (end_line, end_col) = at(b);
        WordSpan {
            line,
            col,
            end_line,
            end_col,
        }
    };
    let end_word = |word: &mut String,
                    in_word: &mut bool,
                    words: &mut Vec<(String, WordSpan)>,
                    start: usize,
                    end: usize| {
        if *in_word {
            words.push((std::mem::take(word), span(start, end)));
            *in_word = false;
        }
    };
    let end_command = |words: &mut Vec<(String, WordSpan)>, out: &mut Vec<Command>| {
        let (w, sp): (Vec<String>, Vec<WordSpan>) = std::mem::take(words).into_iter().unzip();
        if let Some(c) = Command::from_words(w, sp.into_iter().map(Some).collect()) {
            out.push(c);
        }
    };
    let begin = |in_word: &mut bool, start: &mut usize, i: usize| {
        if !*in_word {
            *start = i;
            *in_word = true;
        }
    };
    while let Some((i, c)) = chars.next() {
        let next_at = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
            chars.peek().map_or(text.len(), |(k, _)| *k)
        };
        match c {
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((_, n)) => {
                    begin(&mut in_word, &mut start, i);
                    word.push(n);
                }
                None => {}
            },
            '\'' => {
                begin(&mut in_word, &mut start, i);
                for (_, n) in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    word.push(n);
                }
            }
            '"' => {
                begin(&mut in_word, &mut start, i);
                while let Some((_, n)) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' => {
                            if let Some(&(_, m)) = chars.peek() {
                                if matches!(m, '"' | '\\' | '$' | '`') {
                                    word.push(m);
                                    chars.next();
                                } else if m == '\n' {
                                    chars.next();
                                } else {
                                    word.push('\\');
                                }
                            }
                        }
                        _ => word.push(n),
                    }
                }
            }
            '#' if !in_word => {
                for (_, n) in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                end_command(&mut words, &mut out);
            }
            ';' | '&' | '|' | '\n' | '(' | ')' | '`' => {
                end_word(&mut word, &mut in_word, &mut words, start, i);
                end_command(&mut words, &mut out);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut words, start, i),
            c => {
                begin(&mut in_word, &mut start, i);
                word.push(c);
            }
        }
        if in_word && chars.peek().is_none() {
            let end = next_at(&mut chars);
            end_word(&mut word, &mut in_word, &mut words, start, end);
        }
    }
    end_word(&mut word, &mut in_word, &mut words, start, text.len());
    end_command(&mut words, &mut out);
    out
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && !k.starts_with(|c: char| c.is_ascii_digit())
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

impl Command {
    fn from_words(mut words: Vec<String>, mut spans: Vec<Option<WordSpan>>) -> Option<Command> {
        spans.resize(words.len(), None);
        let mut env = Vec::new();
        // The command's place starts at its assignments, after any keyword.
        let mut start = None;
        while let Some(w) = words.first() {
            if is_assignment(w) {
                env.push(words.remove(0));
                start = start.or(spans.remove(0));
            } else if KEYWORDS.contains(&w.as_str()) {
                words.remove(0);
                spans.remove(0);
            } else {
                break;
            }
        }
        let start = start.or(spans.first().copied().flatten());
        let span = match (start, spans.last().copied().flatten()) {
            (Some(a), Some(b)) => Some(WordSpan::join(a, b)),
            _ => None,
        };
        (!words.is_empty()).then_some(Command {
            words,
            env,
            spans,
            span,
        })
    }

    /// Where word `i` is in the file, when known.
    pub fn word_span(&self, i: usize) -> Option<WordSpan> {
        self.spans.get(i).copied().flatten()
    }

    /// Where the word `w` is in the file, when known (its first occurrence).
    pub fn span_of(&self, w: &str) -> Option<WordSpan> {
        let i = self.words.iter().position(|x| x == w)?;
        self.word_span(i)
    }

    /// Whether `NAME=value` is set for this command: before it, or through `env NAME=value`
    /// (or `export NAME=value` when this command is the export).
    pub fn sets(&self, name: &str, value: &str) -> bool {
        let want = format!("{name}={value}");
        let quoted = |w: &String| w.trim_matches(['"', '\'']) == want || w == &want;
        self.env.iter().any(quoted)
            || self.unwrapped().env.iter().any(quoted)
            || (self.is("export") && self.words[1..].iter().any(quoted))
    }

    /// The program, by its base name (`/usr/bin/apt-get` is `apt-get`).
    pub fn name(&self) -> &str {
        let w = self.words[0].as_str();
        w.rsplit('/').next().unwrap_or(w)
    }

    pub fn is(&self, name: &str) -> bool {
        self.name() == name
    }

    /// The command a wrapper (`sudo`, `env A=b`, `nice -n 5`, ...) runs, or this one.
    pub fn unwrapped(&self) -> Command {
        let mut c = self.clone();
        while WRAPPERS.contains(&c.name()) && c.words.len() > 1 {
            let mut rest: Vec<String> = c.words[1..].to_vec();
            let mut env = std::mem::take(&mut c.env);
            while rest
                .first()
                .is_some_and(|w| w.starts_with('-') || is_assignment(w))
            {
                let flag = rest.remove(0);
                if is_assignment(&flag) {
                    env.push(flag);
                    continue;
                }
                // sudo -u USER, nice -n N: the value goes too.
                if matches!(flag.as_str(), "-u" | "-g" | "-n" | "-C") && !rest.is_empty() {
                    rest.remove(0);
                }
            }
            let spans = c.spans[c.words.len() - rest.len()..].to_vec();
            let whole = c.span;
            match Command::from_words(rest, spans) {
                Some(mut n) => {
                    env.append(&mut n.env);
                    n.env = env;
                    n.span = whole;
                    c = n;
                }
                None => break,
            }
        }
        c
    }

    /// The first argument that is not an option (`install` in `apt-get -y install curl`).
    pub fn subcommand(&self) -> Option<&str> {
        self.positional().next()
    }

    /// The arguments after the subcommand that are not options (the packages of an install).
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.positional().skip(1)
    }

    fn positional(&self) -> impl Iterator<Item = &str> {
        let mut skip_value = false;
        self.words[1..].iter().filter_map(move |w| {
            if skip_value {
                skip_value = false;
                return None;
            }
            if w == "--" {
                return None;
            }
            if w.starts_with('-') && w.len() > 1 {
                skip_value = VALUE_OPTS.contains(&w.as_str());
                return None;
            }
            Some(w.as_str())
        })
    }

    /// `name subcommand`, whatever options come between or after.
    pub fn has_args(&self, name: &str, sub: &str) -> bool {
        self.is(name) && self.subcommand() == Some(sub)
    }

    /// Whether any of `long` (`--no-cache`, also as `--no-cache=…`) or `short` (`y`, also
    /// bundled as in `-yq`) is given.
    pub fn has_flag(&self, long: &[&str], short: &[char]) -> bool {
        self.words[1..].iter().any(|w| {
            if let Some(l) = w.strip_prefix("--") {
                let l = l.split('=').next().unwrap_or(l);
                long.iter().any(|f| f.trim_start_matches('-') == l)
            } else if let Some(s) = w.strip_prefix('-') {
                !s.is_empty()
                    && !s.starts_with('-')
                    && s.chars().all(|c| c.is_ascii_alphanumeric())
                    && s.chars().any(|c| short.contains(&c))
            } else {
                false
            }
        })
    }
}

/// Package-manager questions the rules share.
impl Command {
    /// `apt-get install`, `apt install` (through sudo and the like), not a dry run.
    pub fn is_apt_install(&self) -> bool {
        let c = self.unwrapped();
        (c.has_args("apt-get", "install") || c.has_args("apt", "install"))
            && !c.has_flag(
                &["simulate", "just-print", "dry-run", "recon", "no-act"],
                &['s'],
            )
    }

    /// `apt-get update` or `apt update`: downloads the package lists into /var/lib/apt/lists.
    pub fn updates_apt_lists(&self) -> bool {
        let c = self.unwrapped();
        c.has_args("apt-get", "update") || c.has_args("apt", "update")
    }

    /// A command that empties /var/lib/apt/lists: `rm` of it, or `apt-get dist-clean`.
    pub fn removes_apt_lists(&self) -> bool {
        let c = self.unwrapped();
        (c.is("rm") && c.args_all().any(|a| a.starts_with("/var/lib/apt/lists")))
            || c.has_args("apt-get", "dist-clean")
            || c.has_args("apt", "dist-clean")
    }

    /// A command that empties apk's cache: `rm` of /var/cache/apk (or what is in it), or
    /// `apk cache clean|purge`.
    pub fn removes_apk_cache(&self) -> bool {
        let c = self.unwrapped();
        (c.is("rm")
            && c.args_all().any(|a| {
                let a = a.trim_end_matches('/');
                a == "/var/cache/apk" || a.starts_with("/var/cache/apk/")
            }))
            || c.has_args("apk", "cache") && c.args().any(|a| matches!(a, "clean" | "purge"))
    }

    /// The packages a package manager installs (`apt-get install`, `apk add`, `yum`/`dnf`/
    /// `microdnf`/`zypper install`), with versions cut (`gcc=12.2*` is `gcc`); none for a dry
    /// run.
    pub fn installed_packages(&self) -> Vec<String> {
        let c = &self.unwrapped();
        let installs = c.is_apt_install()
            || c.has_args("apk", "add")
            || ["yum", "dnf", "microdnf", "zypper", "tdnf"]
                .iter()
                .any(|m| c.has_args(m, "install") || c.has_args(m, "in"));
        if !installs {
            return Vec::new();
        }
        c.args()
            .map(|p| p.split(['=', '>', '<', '~']).next().unwrap_or(p))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A command that uninstalls packages (`apk del`, `apt-get purge|remove|autoremove`, `yum`/
    /// `dnf remove`): the build-dependencies pattern, where what was installed is gone again.
    pub fn removes_packages(&self) -> bool {
        let c = &self.unwrapped();
        c.has_args("apk", "del")
            || ["apt-get", "apt"].iter().any(|m| {
                ["purge", "remove", "autoremove"]
                    .iter()
                    .any(|s| c.has_args(m, s))
            })
            || ["yum", "dnf", "microdnf", "zypper"]
                .iter()
                .any(|m| c.has_args(m, "remove") || c.has_args(m, "erase") || c.has_args(m, "rm"))
    }

    /// Every argument that is not an option, the first included.
    fn args_all(&self) -> impl Iterator<Item = &str> {
        self.positional()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<String> {
        commands(t).iter().map(|c| c.words.join(" ")).collect()
    }

    #[test]
    fn splits_commands_and_words() {
        assert_eq!(
            names("apt-get update && apt-get install -y curl; rm -rf /var/lib/apt/lists/* || true | cat"),
            ["apt-get update", "apt-get install -y curl", "rm -rf /var/lib/apt/lists/*", "true", "cat"]
        );
        assert_eq!(
            names("echo \"apt-get install is mentioned\""),
            ["echo apt-get install is mentioned"]
        );
        assert_eq!(names("A=1 B='x y' make -j2"), ["make -j2"]);
        assert_eq!(
            names("if true; then apt-get install x; fi"),
            ["true", "apt-get install x"]
        );
        assert_eq!(
            names("apt-get \\\n  install \\\n  curl"),
            ["apt-get install curl"]
        );
        assert_eq!(
            names("echo a # apt-get install b\necho c"),
            ["echo a", "echo c"]
        );
        assert_eq!(names("(cd /x && make) &"), ["cd /x", "make"]);
        assert_eq!(names("echo 'unterminated"), ["echo unterminated"]);
    }

    #[test]
    fn questions() {
        let c = |t: &str| commands(t).remove(0);
        assert!(c("apt-get -y install curl").is_apt_install());
        assert!(c("apt-get -yf install curl").is_apt_install());
        assert!(c("apt-get -o Dpkg::Options::=--force-confnew install x").is_apt_install());
        assert!(c("sudo apt-get install x").is_apt_install());
        assert!(!c("apt-get install -s curl").is_apt_install());
        assert!(!c("echo apt-get install").is_apt_install());
        assert!(c("apt-get dist-clean").removes_apt_lists());
        assert!(c("rm -rf /var/lib/apt/lists/*").removes_apt_lists());
        assert!(c("rm -rf /tmp/x /var/cache/apk/*").removes_apk_cache());
        assert!(c("rm -rf /var/cache/apk").removes_apk_cache());
        assert!(c("apk cache clean").removes_apk_cache());
        assert!(!c("rm -rf /var/chache/apk/*").removes_apk_cache());
        assert!(c("apk add --no-cache curl").has_flag(&["no-cache"], &[]));
        assert!(c("apt-get install -qy x").has_flag(&["yes"], &['y']));
        assert!(!c("apt-get install --yes-not x").has_flag(&["yes"], &[]));
        let s = c("apt-get install -y sudo");
        assert!(!s.is("sudo") && s.args().any(|a| a == "sudo"));
        assert_eq!(
            c("sudo -u app env A=b /usr/bin/make all")
                .unwrapped()
                .name(),
            "make"
        );
        assert_eq!(c("/usr/bin/apt-get update").name(), "apt-get");
    }

    fn run(text: &str) -> Vec<Vec<String>> {
        let df = crate::parse(text).unwrap();
        run_commands(&df.instructions[0])
            .into_iter()
            .map(|c| c.words)
            .collect()
    }

    #[test]
    fn words_keep_their_place_in_the_file() {
        let df = crate::parse(
            "FROM a\nRUN apt-get update \\\n    && apt-get install -y \\\n       curl\nRUN <<EOF\napk add x\nEOF\n",
        )
        .unwrap();
        let cmds = run_commands(&df.instructions[1]);
        let install = &cmds[1];
        assert_eq!(install.words[0], "apt-get");
        let sp = install.span.unwrap();
        assert_eq!((sp.line, sp.col, sp.end_line, sp.end_col), (3, 7, 4, 11));
        let curl = install.span_of("curl").unwrap();
        assert_eq!((curl.line, curl.col, curl.end_col), (4, 7, 11));
        let first = cmds[0].span.unwrap();
        assert_eq!((first.line, first.col), (2, 4));
        let one = crate::parse("RUN if true; then CGO_ENABLED=0 go build .; fi\n").unwrap();
        let go = run_commands(&one.instructions[0])[1].span.unwrap();
        assert_eq!((go.col, go.end_col), (18, 42));
        let apk = run_commands(&df.instructions[2]);
        let add = apk.iter().find(|c| c.is("apk")).unwrap().span.unwrap();
        assert_eq!((add.line, add.col, add.end_col), (6, 0, 9));
    }

    #[test]
    fn exec_form_and_heredocs() {
        assert_eq!(
            run(r#"RUN ["sh", "-c", "apk add x && rm y"]"#),
            [vec!["apk", "add", "x"], vec!["rm", "y"]]
        );
        assert_eq!(run(r#"RUN ["apk", "add", "x"]"#), [vec!["apk", "add", "x"]]);
        assert_eq!(
            run("RUN <<EOF\napk add curl\nEOF\n")[1..],
            [vec!["apk", "add", "curl"]]
        );
        let py = run("RUN python3 <<EOF\nimport os; os.system('sudo x')\nEOF\n");
        assert!(py.iter().all(|c| c[0] != "import"), "{py:?}");
        assert!(run("RUN bash <<'EOF'\nsudo true\nEOF\n")
            .iter()
            .any(|c| c[0] == "sudo"));
        assert!(run("CMD echo hi").is_empty());
    }
}
