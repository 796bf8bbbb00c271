//! The deployment files, checked statically (there is no container engine here): the compose file
//! and every Kubernetes manifest validate against their schemas with tools the project installs
//! itself, the Dockerfile passes hadolint, and the properties that matter hold.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn venv_bin(tool: &str) -> PathBuf {
    stack::tools::stack_dir().join("venv").join("bin").join(tool)
}

fn run(tool: &str, args: &[&str]) {
    let out = Command::new(venv_bin(tool))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every document of a YAML file, as JSON values (parsed by PyYAML from the stack's venv).
fn yaml(path: &Path) -> Vec<Value> {
    let out = Command::new(venv_bin("python"))
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    files
}

fn resources() -> Vec<Value> {
    manifests().iter().flat_map(|p| yaml(p)).collect()
}

fn of_kind<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter().filter(|r| r["kind"] == kind).collect()
}

/// All the Rust source, to check that configuration keys are ones the code reads.
fn source() -> String {
    let mut text = String::new();
    for dir in ["platform/src", "workers/src", "api/src", "activities/src"] {
        for entry in walk(&repo().join(dir)) {
            text.push_str(&std::fs::read_to_string(entry).unwrap());
        }
    }
    text
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// The OpenTelemetry SDK's own variables that the processes honour (the SDK reads them; the code
/// names the endpoint and the service name itself).
const OTEL_SDK_READS: [&str; 3] = ["OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_RESOURCE_ATTRIBUTES"];

/// Whether the code reads variable `key`: as a literal, as the `<SERVICE>_DATABASE_URL` that
/// `config::database_url` builds, or through the OpenTelemetry SDK.
fn code_reads(src: &str, key: &str) -> bool {
    OTEL_SDK_READS.contains(&key)
        || src.contains(&format!("\"{key}\""))
        || key
            .strip_suffix("_DATABASE_URL")
            .is_some_and(|svc| src.contains(&format!("database_url(\"{}\")", svc.to_lowercase())))
}

#[test]
fn the_compose_file_the_manifests_and_the_dockerfile_validate() {
    run(
        "check-jsonschema",
        &["--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
    );
    let files: Vec<String> = manifests().iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["--strict", "--quiet"];
    args.extend(files.iter().map(String::as_str));
    run("kubernetes-validate", &args);
    run("hadolint", &["Dockerfile"]);
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_as_a_non_root_user() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    assert!(
        text.lines().filter(|l| l.starts_with("FROM ")).count() >= 2,
        "multi-stage"
    );
    let user = text.lines().rfind(|l| l.starts_with("USER ")).expect("a USER line");
    assert_ne!(user.trim(), "USER root");
    assert_ne!(user.trim(), "USER 0");
    for bin in ["api", "cafe", "warehouse", "kitchen", "customercenter"] {
        assert!(text.contains(&format!("--bin {bin}")), "the image holds {bin}");
    }
}

#[test]
fn every_kustomize_resource_exists() {
    let k = &yaml(&repo().join("deploy/k8s/kustomization.yaml"))[0];
    for r in k["resources"].as_array().unwrap() {
        assert!(repo().join("deploy/k8s").join(r.as_str().unwrap()).exists(), "{r}");
    }
    let listed: Vec<&str> = k["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for m in manifests() {
        let name = m.file_name().unwrap().to_str().unwrap();
        assert!(listed.contains(&name), "{name} is part of the kustomization");
    }
}

#[test]
fn every_deployment_has_probes_on_real_ports_resources_and_zero_downtime_rollouts() {
    let all = resources();
    let config = of_kind(&all, "ConfigMap")
        .into_iter()
        .find(|c| c["metadata"]["name"] == "coffeeshop-config")
        .unwrap();
    let api_port: u64 = config["data"]["COFFEESHOP_API_PORT"].as_str().unwrap().parse().unwrap();
    let health_port: u64 = config["data"]["COFFEESHOP_HEALTH_PORT"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let deployments = of_kind(&all, "Deployment");
    let names: Vec<&str> = deployments
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    for service in ["api", "cafe", "warehouse", "kitchen", "customercenter"] {
        assert!(names.contains(&service), "a Deployment for {service}");
    }
    for d in deployments {
        let name = d["metadata"]["name"].as_str().unwrap();
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert!(
            c["resources"]["requests"].is_object() && c["resources"]["limits"].is_object(),
            "{name}: requests and limits"
        );
        if name == "postgresql" {
            assert_eq!(d["spec"]["strategy"]["type"], "Recreate", "one pod owns the volume");
            continue;
        }
        assert_eq!(
            d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0,
            "{name}: zero-downtime rollout"
        );
        assert_eq!(c["args"][0], name, "{name} runs its own binary");
        let port = &c["ports"][0];
        let expected = if name == "api" { api_port } else { health_port };
        assert_eq!(
            port["containerPort"], expected,
            "{name}: the port the process listens on"
        );
        for (probe, path) in [
            ("startupProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
            ("livenessProbe", "/healthz"),
        ] {
            assert_eq!(c[probe]["httpGet"]["path"], path, "{name}: {probe}");
            assert_eq!(
                c[probe]["httpGet"]["port"], port["name"],
                "{name}: {probe} targets the named port"
            );
        }
        let from: Vec<&str> = c["envFrom"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["configMapRef"]["name"].as_str().or(e["secretRef"]["name"].as_str()))
            .collect();
        // The API alone gets its own secrets (the admin password, the session key); the cafe and
        // the customercenter alone the internal key.
        let expected: &[&str] = match name {
            "api" => &["coffeeshop-config", "coffeeshop-databases", "coffeeshop-api"],
            "cafe" | "customercenter" => &["coffeeshop-config", "coffeeshop-databases", "coffeeshop-internal"],
            _ => &["coffeeshop-config", "coffeeshop-databases"],
        };
        assert_eq!(from, expected, "{name}: configuration and secrets");
    }
    // The code answers where the probes ask.
    let src = source();
    assert!(src.contains("\"/readyz\"") && src.contains("\"/healthz\""));
}

#[test]
fn autoscalers_and_disruption_budgets_target_existing_deployments() {
    let all = resources();
    let deployments = of_kind(&all, "Deployment");
    let find = |name: &str| deployments.iter().find(|d| d["metadata"]["name"] == name).copied();
    let hpas = of_kind(&all, "HorizontalPodAutoscaler");
    for service in ["api", "cafe", "warehouse", "kitchen", "customercenter"] {
        assert!(
            hpas.iter().any(|h| h["spec"]["scaleTargetRef"]["name"] == service),
            "an HPA for {service}"
        );
    }
    for h in hpas {
        let target = h["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
        assert_eq!(h["spec"]["scaleTargetRef"]["kind"], "Deployment");
        assert!(find(target).is_some(), "HPA {target} targets a Deployment that exists");
    }
    for pdb in of_kind(&all, "PodDisruptionBudget") {
        let selector = &pdb["spec"]["selector"]["matchLabels"];
        assert!(
            deployments
                .iter()
                .any(|d| &d["spec"]["template"]["metadata"]["labels"] == selector),
            "PDB {} selects pods of a Deployment",
            pdb["metadata"]["name"]
        );
    }
    let claims = of_kind(&all, "PersistentVolumeClaim");
    let pg = find("postgresql").unwrap();
    let volume_claim = &pg["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"];
    assert!(
        claims.iter().any(|c| &c["metadata"]["name"] == volume_claim),
        "PostgreSQL's data is on a PVC"
    );
}

#[test]
fn configuration_keys_are_the_ones_the_code_reads() {
    let src = source();
    let all = resources();
    for kind in ["ConfigMap", "Secret"] {
        for r in of_kind(&all, kind) {
            if r["metadata"]["name"] == "postgresql-init" {
                continue;
            }
            let data = r["data"].as_object().or(r["stringData"].as_object()).unwrap();
            for key in data.keys().filter(|k| *k != "POSTGRES_PASSWORD") {
                assert!(code_reads(&src, key), "{kind} key {key} is read by the code");
            }
        }
    }
    let compose = &yaml(&repo().join("docker-compose.yml"))[0];
    for (name, service) in compose["services"].as_object().unwrap() {
        if service["image"] != "coffeeshop:latest" {
            continue;
        }
        assert!(
            service["healthcheck"].is_object(),
            "compose service {name} has a health check"
        );
        for key in service["environment"].as_object().unwrap().keys() {
            assert!(code_reads(&src, key), "compose {name}: {key} is read by the code");
        }
    }
    let setup = compose["services"]["temporal-setup"]["command"].to_string();
    for attribute in domain::search_attributes::NAMES {
        assert!(
            setup.contains(attribute),
            "compose registers the search attribute {attribute}"
        );
    }
    assert_eq!(
        stack::temporal::SEARCH_ATTRIBUTES,
        domain::search_attributes::NAMES,
        "the embedded stack registers the search attributes the workflow sets"
    );
}

#[test]
fn prometheus_scrapes_every_process_where_it_serves_its_metrics() {
    let all = resources();
    for d in of_kind(&all, "Deployment") {
        let name = d["metadata"]["name"].as_str().unwrap();
        if name == "postgresql" {
            continue;
        }
        let annotations = &d["spec"]["template"]["metadata"]["annotations"];
        let port = d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"].to_string();
        assert_eq!(annotations["prometheus.io/scrape"], "true", "{name} is scraped");
        assert_eq!(annotations["prometheus.io/port"], port.as_str(), "{name}: on the port it listens on");
        assert_eq!(annotations["prometheus.io/path"], "/metrics", "{name}: where it serves them");
    }
    // Compose: Prometheus reads each process's metrics at the port compose gives it.
    let compose = &yaml(&repo().join("docker-compose.yml"))[0];
    let prometheus = &yaml(&repo().join("deploy/prometheus/prometheus.yml"))[0];
    let targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"].to_string();
    assert_eq!(prometheus["scrape_configs"][0]["metrics_path"], "/metrics");
    for name in ["api", "cafe", "warehouse", "kitchen", "customercenter"] {
        let env = &compose["services"][name]["environment"];
        let port = env["COFFEESHOP_HEALTH_PORT"].as_str().or(env["COFFEESHOP_API_PORT"].as_str()).unwrap();
        assert!(targets.contains(&format!("\"{name}:{port}\"")), "Prometheus scrapes {name}:{port}: {targets}");
    }
    assert!(
        compose["services"]["prometheus"]["volumes"].to_string().contains("deploy/prometheus/prometheus.yml"),
        "compose's Prometheus reads that file"
    );
    // And the code serves /metrics: the API's route, and every worker's health server.
    assert!(std::fs::read_to_string(repo().join("api/src/lib.rs")).unwrap().contains("\"/metrics\""));
    assert!(std::fs::read_to_string(repo().join("workers/src/service.rs")).unwrap().contains("\"/metrics\""));
}

#[test]
fn grafanas_dashboards_read_metrics_the_code_exposes_from_compose_prometheus() {
    let compose = &yaml(&repo().join("docker-compose.yml"))[0];
    let grafana = compose["services"]["grafana"]["volumes"].to_string();
    assert!(grafana.contains("deploy/grafana/provisioning") && grafana.contains("deploy/grafana/dashboards"));
    let datasource = &yaml(&repo().join("deploy/grafana/provisioning/datasources/prometheus.yml"))[0];
    assert_eq!(datasource["datasources"][0]["url"], "http://prometheus:9090", "compose's Prometheus");
    assert!(compose["services"]["prometheus"].is_object());
    // Every metric a panel asks for is one the code makes: ours by name in the source, the SDK's
    // by their `temporal_` prefix (the metrics test scrapes them from the workers).
    let src = source();
    for file in ["shop.json", "sdk.json"] {
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(repo().join("deploy/grafana/dashboards").join(file)).unwrap())
                .unwrap_or_else(|e| panic!("{file} is JSON: {e}"));
        let panels = dashboard["panels"].as_array().unwrap();
        assert!(!panels.is_empty(), "{file} has panels");
        for target in panels.iter().flat_map(|p| p["targets"].as_array().unwrap()) {
            let expr = target["expr"].as_str().unwrap();
            let names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("coffeeshop_") || w.starts_with("temporal_"));
            for name in names {
                if name.starts_with("temporal_") && name != "temporal_circuit_open" {
                    continue;
                }
                let made = name
                    .trim_start_matches("coffeeshop_")
                    .trim_end_matches("_bucket")
                    .trim_end_matches("_total");
                assert!(src.contains(made), "{file}: {name} is made by the code ({expr})");
            }
        }
    }
}

/// The pod labels a NetworkPolicy's `podSelector` selects, among `names`.
fn selected<'a>(policy: &Value, names: &[&'a str]) -> Vec<&'a str> {
    let selector = &policy["spec"]["podSelector"];
    names
        .iter()
        .copied()
        .filter(|name| {
            selector["matchLabels"]["app.kubernetes.io/name"] == *name
                || selector["matchExpressions"].as_array().is_some_and(|all| {
                    all.iter().any(|e| {
                        e["key"] == "app.kubernetes.io/name"
                            && e["operator"] == "In"
                            && e["values"].as_array().unwrap().iter().any(|v| v == name)
                    })
                })
        })
        .collect()
}

#[test]
fn only_the_cafe_and_prometheus_reach_a_worker_and_anyone_the_api() {
    let all = resources();
    let policies = of_kind(&all, "NetworkPolicy");
    let services = ["api", "cafe", "warehouse", "kitchen", "customercenter"];
    for service in services {
        let governing: Vec<&&Value> = policies
            .iter()
            .filter(|p| selected(p, &services).contains(&service))
            .collect();
        assert_eq!(governing.len(), 1, "one NetworkPolicy governs {service}'s pods");
        let ingress = governing[0]["spec"]["ingress"].as_array().unwrap();
        if service == "api" {
            assert!(ingress.iter().all(|rule| rule["from"].is_null()), "anyone reaches the API");
            continue;
        }
        // A worker's one port: Prometheus, and for the customercenter the cafe, nobody else.
        let mut callers: Vec<&str> = ingress
            .iter()
            .map(|rule| {
                assert_eq!(rule["ports"][0]["port"], "health", "{service}: only its health port");
                let from = rule["from"].as_array().expect("every rule names who");
                assert_eq!(from.len(), 1);
                from[0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str().unwrap()
            })
            .collect();
        callers.sort();
        let expected: &[&str] = if service == "customercenter" { &["cafe", "prometheus"] } else { &["prometheus"] };
        assert_eq!(callers, expected, "who connects to the {service} worker");
    }
    // The internal key goes to the two processes that use it, and nowhere else.
    for d in of_kind(&all, "Deployment") {
        let name = d["metadata"]["name"].as_str().unwrap();
        let sources = d["spec"]["template"]["spec"]["containers"][0]["envFrom"].to_string();
        assert_eq!(
            sources.contains("coffeeshop-internal"),
            matches!(name, "cafe" | "customercenter"),
            "{name}'s secrets"
        );
    }
    let compose = &yaml(&repo().join("docker-compose.yml"))[0];
    for (name, service) in compose["services"].as_object().unwrap() {
        for port in service["ports"].as_array().into_iter().flatten() {
            assert!(port.as_str().unwrap().starts_with("127.0.0.1:"), "compose {name} publishes {port} on loopback only");
        }
    }
}

#[test]
fn traces_go_to_composes_jaeger_and_the_clusters_collector() {
    let compose = &yaml(&repo().join("docker-compose.yml"))[0];
    let services = compose["services"].as_object().unwrap();
    let jaeger = &services["jaeger"];
    assert!(jaeger["image"].as_str().unwrap().starts_with("jaegertracing/"));
    for port in jaeger["ports"].as_array().unwrap() {
        assert!(port.as_str().unwrap().starts_with("127.0.0.1:"), "Jaeger's {port} is on loopback only");
    }
    for (name, service) in services.iter().filter(|(_, s)| s["image"] == "coffeeshop:latest") {
        assert_eq!(
            service["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://jaeger:4317",
            "{name} exports its spans to Jaeger's OTLP/gRPC port"
        );
        assert!(service["environment"]["OTEL_SERVICE_NAME"].is_null(), "{name} names itself");
    }
    let all = resources();
    let config = of_kind(&all, "ConfigMap").into_iter().find(|c| c["metadata"]["name"] == "coffeeshop-config").unwrap();
    assert!(config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"].as_str().unwrap().ends_with(":4317"));
    assert_eq!(config["data"]["OTEL_TRACES_SAMPLER"], "parentbased_traceidratio");
    let ratio: f64 = config["data"]["OTEL_TRACES_SAMPLER_ARG"].as_str().unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&ratio));
}

#[test]
fn the_deployments_temporal_gets_the_stacks_server_settings() {
    let settings = std::fs::read_to_string(repo().join("deploy/temporal/dynamicconfig.yaml")).unwrap();
    let value_of = |key: &str| {
        let at = settings.find(&format!("\n{key}:")).unwrap_or_else(|| panic!("{key} is set"));
        let value = settings[at..].split("value:").nth(1).unwrap();
        value.lines().next().unwrap().trim().to_owned()
    };
    for partitions in ["Read", "Write"] {
        assert_eq!(
            value_of(&format!("matching.numTaskqueue{partitions}Partitions")),
            stack::temporal::TASK_QUEUE_PARTITIONS.to_string()
        );
    }
    assert_eq!(value_of("matching.enableFairness"), "true");
    for queue in ["transfer", "visibility", "timer"] {
        assert_eq!(
            value_of(&format!("history.{queue}ProcessorMaxPollRPS")),
            stack::temporal::QUEUE_READS_PER_SECOND.to_string()
        );
    }
}
