//! Every Dockerfile rule against fixtures that must trigger it and fixtures that must not.

use drydock_lint::{catalog, lint_dockerfile, LintOptions};

/// (code, must trigger, must not trigger). Each "good" file is a complete, clean Dockerfile for
/// that rule's concern; each "bad" one differs in the way the rule is about.
const CASES: &[(&str, &str, &str)] = &[
    ("DF001", "FROM alpine\nUSER 1:1\n", "ARG BASE=alpine:3.20\nFROM ${BASE}\nUSER 1:1\n"),
    ("DF001", "ARG BASE=alpine\nFROM $BASE\n", "FROM golang:1.22 AS build\nFROM build\n"),
    ("DF001", "FROM nginx:latest\n", "FROM scratch\n"),
    ("DF002", "FROM alpine:3.20\nRUN apk update && apk add curl\n", "FROM alpine:3.20\nRUN apk add --no-cache curl\n"),
    ("DF003", "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n", "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"),
    ("DF004", "FROM scratch\nCOPY app /app\n", "FROM scratch\nUSER 65532:65532\n"),
    ("DF004", "FROM scratch\nUSER 65532\nUSER root\n", "FROM golang:1.22 AS b\nUSER 1\nFROM b\n"),
    ("DF005", "FROM scratch\nUSER nonroot\n", "FROM scratch\nUSER 65532:65532\n"),
    ("DF006", "FROM scratch\nUSER 1\n", "FROM scratch\nHEALTHCHECK CMD [\"/probe\"]\n"),
    ("DF007", "FROM scratch\nCMD ./server --port 8080\n", "FROM scratch\nCMD [\"./server\", \"--port\", \"8080\"]\n"),
    ("DF007", "FROM scratch\nENTRYPOINT /app\n", "FROM alpine:3.20 AS b\nCMD echo build stage only\nFROM scratch\nENTRYPOINT [\"/app\"]\n"),
    ("DF008", "FROM scratch\nENV API_TOKEN=s3cr3t\n", "FROM scratch\nENV API_TOKEN_FILE=/run/secrets/token\n"),
    ("DF008", "FROM scratch\nARG DB_PASSWORD=hunter2\n", "FROM scratch\nARG DB_PASSWORD\nENV TOKEN_URL=https://x\n"),
    ("DF009", "FROM scratch\nADD config.yaml /etc/\n", "FROM scratch\nADD rootfs.tar.gz /\nADD https://example.com/x /x\nCOPY config.yaml /etc/\n"),
    ("DF010", "FROM golang:1.22 AS b\nCOPY . .\nRUN go mod download\n", "FROM golang:1.22 AS b\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"),
    ("DF011", "FROM scratch\nEXPOSE 70000\n", "FROM scratch\nEXPOSE 8080/tcp\n"),
    ("DF011", "FROM scratch\nEXPOSE 8080 9090\n", "FROM alpine:3.20 AS b\nEXPOSE 1 2\nFROM scratch\nEXPOSE 8080\n"),
    ("DF012", "FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\n", "FROM scratch\nENTRYPOINT [\"a\"]\nCMD [\"b\"]\n"),
    ("DF013", "FROM alpine:3.20 AS x\nFROM alpine:3.20 AS X\n", "FROM alpine:3.20 AS x\nFROM alpine:3.20 AS y\n"),
    ("DF014", "FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=bulid /a /a\n", "FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\nCOPY --from=nginx:1.27 /c /c\n"),
    ("DF015", "FROM scratch\nWORKDIR app\n", "FROM scratch\nWORKDIR /app\nWORKDIR $HOME/x\n"),
    ("DF016", "FROM golang:1.22\nRUN go build -o /app .\n", "FROM golang:1.22 AS b\nFROM gcr.io/distroless/static-debian12:nonroot\n"),
    ("DF017", "FROM golang:1.22 AS b\nRUN go build -o /a .\nFROM scratch\n", "FROM golang:1.22 AS b\nENV CGO_ENABLED=0\nRUN go build -o /a .\nFROM scratch\n"),
    ("DF017", "FROM golang:1.22 AS b\nRUN go build -o /a .\nFROM alpine:3.20\n", "FROM golang:1.22 AS b\nRUN go build -o /a .\nFROM debian:12-slim\n"),
    ("DF017", "FROM golang:1.22 AS b\nRUN cd x && go build .\nFROM scratch\n", "FROM rust:1.85 AS b\nRUN cargo build --release\nFROM scratch\n"),
    ("DF018", "FROM golang:1.22 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM debian:12\n", "FROM golang:1.22 AS b\nRUN go build -o /a .\nFROM debian:12\n"),
    ("DF018", "FROM rust:1.85 AS b\nRUN RUSTFLAGS='-C target-feature=+crt-static' cargo build\nFROM ubuntu:24.04\n", "FROM golang:1.22 AS b\nRUN CGO_ENABLED=0 go build -o /a .\nFROM gcr.io/distroless/static-debian12\n"),
    ("DF019", "FROM golang:1.22 AS b\nFROM scratch\nCOPY --from=b / /\n", "FROM golang:1.22 AS b\nFROM scratch\nCOPY --from=b /out/app /app\n"),
    ("DF019", "FROM golang:1.22 AS b\nFROM scratch\nCOPY . /app\n", "FROM golang:1.22\nCOPY . /app\n"),
    ("DF020", "FROM debian:12\nRUN sudo apt-get update\n", "FROM debian:12\nRUN echo pseudo sudoku\n"),
    ("DF021", "FROM debian:12\nRUN cd /src && make\n", "FROM debian:12\nWORKDIR /src\nRUN make && cd -\n"),
    ("DF022", "FROM debian:12\nRUN apt-get install -y curl\n", "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n"),
    // The shell model: options before the subcommand, bundled short flags, words inside quotes,
    // `dist-clean`, a package named sudo, `--no-network`, dry runs.
    ("DF002", "FROM alpine:3.20\nRUN apk -U add curl\n", "FROM alpine:3.20\nRUN apk add --no-network /pkgs/x.apk && apk --no-cache add curl\n"),
    ("DF003", "FROM debian:12\nRUN apt-get -y install curl\n", "FROM debian:12\nRUN apt-get -y install --no-install-recommends curl && apt-get dist-clean\n"),
    ("DF003", "FROM debian:12\nRUN sudo apt-get -yf install curl\n", "FROM debian:12\nRUN echo \"apt-get install is mentioned\"\n"),
    ("DF003", "FROM debian:12\nRUN if true; then apt install -y x; fi\n", "FROM debian:12\nRUN apt-get install -s curl\n"),
    ("DF020", "FROM debian:12\nRUN apt-get update; sudo -u app make\n", "FROM debian:12\nRUN apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/*\n"),
    ("DF022", "FROM debian:12\nRUN apt-get -y install curl && rm -rf /var/lib/apt/lists/*\n", "FROM debian:12\nRUN echo \"apt-get install is mentioned\"\n"),
    ("DF022", "FROM debian:12\nRUN apt-get -yf install curl\n", "FROM debian:12\nRUN apt-get -o APT::Install-Recommends=false install -y curl\n"),
    ("DF023", "FROM debian:12\nMAINTAINER me@example.com\n", "FROM debian:12\nLABEL org.opencontainers.image.authors=me@example.com\n"),
];

/// The .dockerignore rules need a directory: (code, files of the bad context, files of the good one).
const CONTEXT_CASES: &[(&str, &[(&str, &str)], &[(&str, &str)])] = &[
    (
        "DI001",
        &[("main.go", "")],
        &[("main.go", ""), (".dockerignore", ".git\n")],
    ),
    (
        "DI002",
        &[
            (".dockerignore", "*.log\n"),
            (".git/HEAD", "ref"),
            ("main.go", ""),
        ],
        &[(".dockerignore", ".git\n"), (".git/HEAD", "ref")],
    ),
    // `*.key` matches only at the root in Docker's semantics: `**/*.key` is what excludes it.
    (
        "DI002",
        &[(".dockerignore", "*.key\n"), ("deploy/server.key", "k")],
        &[(".dockerignore", "**/*.key\n"), ("deploy/server.key", "k")],
    ),
    (
        "DI003",
        &[(".dockerignore", "config/\n"), ("config/app.yaml", "x")],
        &[
            (".dockerignore", "config/\n!config/app.yaml\n"),
            ("config/app.yaml", "x"),
        ],
    ),
];

fn codes(text: &str) -> Vec<&'static str> {
    lint_dockerfile("Dockerfile", text, &LintOptions::default())
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .into_iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn every_rule_triggers_on_its_bad_fixture_and_not_on_its_good_one() {
    for (code, bad, good) in CASES {
        assert!(
            codes(bad).contains(code),
            "{code} must trigger on {bad:?} (got {:?})",
            codes(bad)
        );
        assert!(
            !codes(good).contains(code),
            "{code} must not trigger on {good:?}"
        );
    }
    // Kubernetes and Compose rules have theirs in lint_kubernetes.rs and lint_compose.rs.
    for r in catalog::RULES
        .iter()
        .filter(|r| r.code.starts_with("DF") || r.code.starts_with("DI"))
    {
        assert!(
            CASES.iter().any(|(c, _, _)| *c == r.code)
                || CONTEXT_CASES.iter().any(|(c, _, _)| *c == r.code),
            "{} has no fixtures",
            r.code
        );
    }
}

#[test]
fn every_context_rule_triggers_on_its_bad_context_and_not_on_its_good_one() {
    let dockerfile =
        "FROM scratch\nCOPY config/app.yaml /etc/app.yaml\nUSER 1\nHEALTHCHECK CMD [\"/p\"]\n";
    let codes_in = |files: &[(&str, &str)]| {
        let t = tempfile::tempdir().unwrap();
        for (p, body) in files {
            let full = t.path().join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, body).unwrap();
        }
        std::fs::write(t.path().join("Dockerfile"), dockerfile).unwrap();
        drydock_lint::lint_file(&t.path().join("Dockerfile"), &LintOptions::default())
            .unwrap()
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect::<Vec<_>>()
    };
    for (code, bad, good) in CONTEXT_CASES {
        let b = codes_in(bad);
        assert!(
            b.iter().any(|(c, _)| c == code),
            "{code} must trigger on {bad:?} (got {b:?})"
        );
        let g = codes_in(good);
        assert!(
            !g.iter().any(|(c, _)| c == code),
            "{code} must not trigger on {good:?} (got {g:?})"
        );
    }
    // The message says how much the context sends, and what is largest.
    let b = codes_in(&[
        (".dockerignore", "*.log\n"),
        (".git/objects/big", &"x".repeat(5000)),
        ("main.go", ""),
    ]);
    let msg = &b.iter().find(|(c, _)| *c == "DI002").unwrap().1;
    assert!(
        msg.contains(".git/") && msg.contains("largest: .git 5.0 KB"),
        "{msg}"
    );
}

#[test]
fn a_best_practice_dockerfile_is_clean() {
    let text = "\
# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/api .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/api /app/api
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s CMD [\"/app/api\", \"healthcheck\"]
ENTRYPOINT [\"/app/api\"]
";
    assert_eq!(codes(text), Vec::<&str>::new());
}

#[test]
fn spans_point_at_the_offending_text() {
    let d = lint_dockerfile(
        "Dockerfile",
        "FROM scratch\nUSER 1\nEXPOSE 8080 99999\n",
        &LintOptions::default(),
    )
    .unwrap();
    let e = d.iter().find(|d| d.code == "DF011").unwrap();
    assert_eq!(
        (
            e.span.line,
            e.span.column,
            e.span.end_line,
            e.span.end_column
        ),
        (3, 13, 3, 18)
    );
    let d = lint_dockerfile(
        "Dockerfile",
        "FROM scratch\nUSER 1\n  CMD ./a \\\n    --flag\n",
        &LintOptions::default(),
    )
    .unwrap();
    let c = d.iter().find(|d| d.code == "DF007").unwrap();
    assert_eq!(
        (
            c.span.line,
            c.span.column,
            c.span.end_line,
            c.span.end_column
        ),
        (3, 3, 4, 11)
    );
}

#[test]
fn suppressions_inline_file_level_and_forbidden() {
    let inline =
        "FROM scratch\n# drydock:ignore DF004,DF006 a sidecar that must run as root\nUSER root\n";
    assert!(!codes(inline).contains(&"DF004"));
    let not_above = "FROM scratch\n# drydock:ignore DF004 reason\n\nUSER root\n";
    assert!(
        codes(not_above).contains(&"DF004"),
        "only the instruction directly below is covered"
    );
    let file = "# drydock:ignore-file DF006 images for Kubernetes only\nFROM scratch\nUSER 1\n";
    assert!(!codes(file).contains(&"DF006"));
    let opts = LintOptions {
        no_suppressions: true,
        ..Default::default()
    };
    let d: Vec<_> = lint_dockerfile("Dockerfile", inline, &opts)
        .unwrap()
        .into_iter()
        .map(|d| d.code)
        .collect();
    assert!(d.contains(&"DF004"), "--no-suppressions keeps it");
}

#[test]
fn generated_rule_docs_are_committed_and_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    for r in catalog::RULES {
        let committed =
            std::fs::read_to_string(dir.join(format!("{}.md", r.code))).unwrap_or_else(|_| {
                panic!(
                    "docs/rules/{}.md missing: run `drydock rules --write-docs docs/rules`",
                    r.code
                )
            });
        assert_eq!(
            committed,
            r.markdown(),
            "docs/rules/{}.md is stale: run `drydock rules --write-docs docs/rules`",
            r.code
        );
    }
    let index = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert_eq!(
        index,
        catalog::index_markdown(),
        "docs/rules/README.md is stale: run `drydock rules --write-docs docs/rules`"
    );
}
