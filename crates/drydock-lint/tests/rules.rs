//! Dockerfile rules as a whole: a best-practice file is clean, spans, suppressions, the rule
//! docs. Each rule's own cases are fixtures with snapshots (tests/snapshots.rs).

use drydock_lint::{catalog, lint_dockerfile, LintOptions};

/// Every rule's findings, the opt-in ones (DF024) too.
fn codes(text: &str) -> Vec<&'static str> {
    let mut all = LintOptions {
        select: ["ALL".to_string()].into(),
        ..LintOptions::default()
    };
    all.validate().unwrap();
    lint_dockerfile("Dockerfile", text, &all)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .into_iter()
        .map(|d| d.code)
        .collect()
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
    let mut opts = LintOptions {
        no_suppressions: true,
        extend_select: ["DF024".to_string()].into(),
        ..Default::default()
    };
    opts.validate().unwrap();
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
            catalog::rule_page(r),
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

/// DF016 and DF017 read a base image as a reference (registry, repository path, tag), so a
/// registry with a port does not hide the image's name.
#[test]
fn base_images_are_matched_by_their_parsed_reference() {
    // A toolchain image from a registry with a port is still the `golang` image.
    let toolchain = "FROM localhost:5000/golang:1.22\nCOPY . /src\nRUN go build -o /app /src\nUSER 1\nEXPOSE 8080\nCMD [\"/app\"]\n";
    assert!(
        codes(toolchain).contains(&"DF016"),
        "{:?}",
        codes(toolchain)
    );
    // golang:*-alpine of Go 1.20 or later, with no C compiler, turns cgo off by itself: so
    // from a registry with a port too.
    let alpine_go = "FROM localhost:5000/golang:1.22-alpine AS build\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\nUSER 1\nCMD [\"/app\"]\n";
    assert!(
        !codes(alpine_go).contains(&"DF017"),
        "{:?}",
        codes(alpine_go)
    );
    // And its Go 1.19 is not.
    let old_go = alpine_go.replace("1.22-alpine", "1.19-alpine");
    assert!(codes(&old_go).contains(&"DF017"), "{:?}", codes(&old_go));
    // A final stage on alpine, named by its namespace or its repository's name.
    for fin in [
        "alpine:3.20",
        "registry.example.com:5000/alpine",
        "alpine/git",
    ] {
        let text = format!("FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM {fin}\nCOPY --from=build /out/app /app\nUSER 1\nCMD [\"/app\"]\n");
        assert!(codes(&text).contains(&"DF017"), "{fin}: {:?}", codes(&text));
    }
}
