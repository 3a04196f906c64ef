//! Keeps `dashboards/` and `deploy/` true to the code.
//!
//! - Every `fleet_*` metric that a dashboard or a Prometheus rules file names is exported by
//!   [`Metrics`], and every alert carries `for`, a severity and its annotations.
//! - `deploy/rabbitmq/definitions.json` holds exactly the exchanges, queues, arguments and
//!   bindings of [`fleet_worker::topology::plan`], which is what
//!   [`fleet_worker::topology::declare`] declares, for the same settings.
//! - The Kubernetes manifests load as a pod would load them: the ConfigMap's `fleet.toml`
//!   with the Deployment's environment is a valid configuration, the probes and scrape
//!   annotations use the metrics port it sets, and KEDA scales on the queues it serves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use fleet_worker::topology::{self, Argument, Arguments, Names};
use fleet_worker::{Metrics, Settings};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The account of the example files.
const ALIAS: &str = "studio-a";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files in `dir` (relative to the repository) whose name ends with `suffix`, sorted.
fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let path = repo().join(dir);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {suffix} file in {dir}");
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every document of a YAML file, as JSON values; empty documents are left out.
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .filter(|document| !document.is_null())
        .collect()
}

/// Every string value in `value`, depth first.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => out.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => map.values().for_each(|item| strings(item, out)),
        _ => {}
    }
}

/// The metric families named in `text`: every `fleet_[a-z_]+` word, with the `_bucket`,
/// `_sum` and `_count` series suffixes of histograms removed.
fn metric_names(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut names = BTreeSet::new();
    let mut start = 0;
    while let Some(offset) = text[start..].find("fleet_") {
        let at = start + offset;
        let mut end = at + "fleet_".len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        let inside_a_word = at > 0 && {
            let before = bytes[at - 1];
            before.is_ascii_alphanumeric() || before == b'_' || before == b':'
        };
        let continues = end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b':');
        if !inside_a_word && !continues && end > at + "fleet_".len() {
            let name = &text[at..end];
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name);
            names.insert(family.to_string());
        }
        start = end;
    }
    names
}

/// The metric families the worker exports. Vectors render nothing until they have a
/// child, so each gets one sample series first.
fn exported_metrics() -> BTreeSet<String> {
    let metrics = Metrics::new();
    metrics
        .jobs
        .with_label_values(&[ALIAS, "test.noop", "succeeded"])
        .inc();
    metrics
        .retries
        .with_label_values(&[ALIAS, "test.noop", "transient"])
        .inc();
    metrics
        .dead_letters
        .with_label_values(&[ALIAS, "transient"])
        .inc();
    metrics
        .job_duration
        .with_label_values(&[ALIAS, "test.noop"])
        .observe(0.01);
    metrics.queue_wait.with_label_values(&[ALIAS]).observe(0.01);
    metrics
        .confirm_latency
        .with_label_values(&["result"])
        .observe(0.001);
    metrics.duplicates.with_label_values(&[ALIAS]).inc();

    let exported: BTreeSet<String> = metrics
        .render()
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(
        exported.len() >= 10,
        "a metric family rendered nothing: {exported:?}"
    );
    exported
}

#[test]
fn the_metric_name_scanner_finds_families() {
    let names = metric_names(
        "sum(rate(fleet_jobs_total{a=\"b\"}[5m])) / histogram_quantile(0.9, \
         fleet_job_duration_seconds_bucket) + fleet_x_count + frameio_fleet_y + fleet_z:rate5m",
    );
    let expected: BTreeSet<String> = ["fleet_jobs_total", "fleet_job_duration_seconds", "fleet_x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn dashboards_and_rules_name_only_exported_metrics() {
    let known = exported_metrics();
    let mut checked = Vec::new();

    let mut documents: Vec<(PathBuf, Vec<Value>)> = files("dashboards", ".json")
        .into_iter()
        .map(|path| {
            let document = json_file(&path);
            (path, vec![document])
        })
        .collect();
    documents.extend(files("deploy/prometheus", ".yaml").into_iter().map(|path| {
        let parsed = yaml_documents(&path);
        (path, parsed)
    }));

    for (path, parsed) in &documents {
        let mut texts = Vec::new();
        parsed
            .iter()
            .for_each(|document| strings(document, &mut texts));
        let used: BTreeSet<String> = texts.iter().flat_map(|text| metric_names(text)).collect();
        assert!(
            !used.is_empty(),
            "{} names no fleet_ metric",
            path.display()
        );

        let unknown: Vec<&String> = used.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "{} names metrics the worker does not export: {unknown:?}\nexported: {known:?}",
            path.display()
        );
        checked.push(path.clone());
    }
    assert!(checked.len() >= 2, "checked only {checked:?}");
}

#[test]
fn the_dashboard_is_built_on_its_variables() {
    for path in files("dashboards", ".json") {
        let dashboard = json_file(&path);
        let name = path.display();
        assert!(
            dashboard["schemaVersion"].as_u64().unwrap_or(0) >= 39,
            "{name}: schemaVersion"
        );
        assert!(dashboard["uid"].as_str().is_some_and(|uid| !uid.is_empty()));

        let variables = dashboard["templating"]["list"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: templating.list"));
        let variable = |wanted: &str| {
            variables
                .iter()
                .find(|v| v["name"] == wanted)
                .unwrap_or_else(|| panic!("{name}: no variable {wanted}"))
        };
        let datasource = variable("datasource");
        assert_eq!(datasource["type"], "datasource", "{name}");
        assert_eq!(datasource["query"], "prometheus", "{name}");
        let account = variable("account");
        assert_eq!(account["type"], "query", "{name}");
        assert_eq!(
            account["definition"], "label_values(fleet_jobs_total, account)",
            "{name}"
        );
        assert_eq!(account["datasource"]["uid"], "${datasource}", "{name}");

        let panels = dashboard["panels"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: panels"));
        let mut ids = BTreeSet::new();
        let mut cells = BTreeSet::new();
        for panel in panels {
            let title = panel["title"].as_str().unwrap_or_default();
            assert!(
                ids.insert(panel["id"].as_u64().expect("panel id")),
                "{name}: id of {title} repeats"
            );
            let grid = &panel["gridPos"];
            let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| grid[k].as_u64().expect("gridPos"));
            assert!(x + w <= 24, "{name}: {title} is wider than the grid");
            for column in x..x + w {
                for row in y..y + h {
                    assert!(
                        cells.insert((column, row)),
                        "{name}: {title} overlaps another panel"
                    );
                }
            }
            if panel["type"] == "row" {
                continue;
            }

            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{name}: {title}"
            );
            let targets = panel["targets"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {title} has no targets"));
            assert!(!targets.is_empty(), "{name}: {title} has no targets");
            for target in targets {
                assert_eq!(
                    target["datasource"]["uid"], "${datasource}",
                    "{name}: {title}"
                );
                let expr = target["expr"].as_str().unwrap_or_default();
                assert!(!expr.is_empty(), "{name}: {title} has an empty query");
                if expr.contains("histogram_quantile") {
                    assert!(
                        expr.contains("_bucket") && expr.contains("le"),
                        "{name}: {title}: a quantile needs _bucket series summed by le"
                    );
                }
            }
        }
    }
}

#[test]
fn every_alert_has_a_duration_a_severity_and_annotations() {
    let mut alerts = 0;
    for path in files("deploy/prometheus", ".yaml") {
        for document in yaml_documents(&path) {
            let Some(groups) = document["groups"].as_array() else {
                continue;
            };
            for group in groups {
                for rule in group["rules"].as_array().expect("rules") {
                    let Some(alert) = rule["alert"].as_str() else {
                        continue;
                    };
                    alerts += 1;
                    let at = format!("{}: {alert}", path.display());
                    assert!(
                        rule["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                        "{at}"
                    );
                    assert!(
                        rule["for"].as_str().is_some_and(|f| !f.is_empty()),
                        "{at}: for"
                    );
                    let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
                    assert!(
                        ["info", "warning", "critical"].contains(&severity),
                        "{at}: severity {severity:?}"
                    );
                    for annotation in ["summary", "description"] {
                        assert!(
                            rule["annotations"][annotation]
                                .as_str()
                                .is_some_and(|text| !text.trim().is_empty()),
                            "{at}: annotation {annotation}"
                        );
                    }
                }
            }
        }
    }
    assert!(alerts >= 4, "only {alerts} alerts");
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// The embedded defaults with the example account.
fn default_settings() -> Settings {
    let alias = ALIAS.to_uppercase();
    let client_id = format!("FLEET__ACCOUNTS__{alias}__CLIENT_ID");
    let client_secret = format!("FLEET__ACCOUNTS__{alias}__CLIENT_SECRET");
    let environment = env(&[(&client_id, "client-id"), (&client_secret, "secret")]);
    Settings::load_from(None, Some(environment)).expect("default settings with one account")
}

/// `arguments` as the JSON object a definitions file holds.
fn arguments_json(arguments: &Arguments) -> Value {
    let object: Map<String, Value> = arguments
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Argument::Text(text) => Value::from(text.as_str()),
                Argument::Integer(number) => Value::from(*number),
            };
            (key.clone(), value)
        })
        .collect();
    Value::Object(object)
}

/// A binding: source exchange, destination queue, routing key and arguments.
type Binding = (String, String, String, Value);

/// Broker objects: queues with their arguments, exchanges with their type and arguments,
/// and bindings, sorted so that the order of either side does not matter but a duplicate
/// does.
struct Topology {
    queues: BTreeMap<String, Value>,
    exchanges: BTreeMap<String, (String, Value)>,
    bindings: Vec<String>,
}

/// What [`topology::plan`] declares for `settings`.
fn planned(settings: &Settings) -> Topology {
    let plan = topology::plan(settings);

    let mut queues = BTreeMap::new();
    for queue in plan.queues() {
        let previous = queues.insert(queue.name.clone(), arguments_json(&queue.arguments));
        assert!(
            previous.is_none(),
            "the plan declares queue {} twice",
            queue.name
        );
    }

    let mut exchanges = BTreeMap::new();
    for exchange in plan.exchanges() {
        let declared = (
            exchange.kind.as_str().to_string(),
            arguments_json(&exchange.arguments),
        );
        let previous = exchanges.insert(exchange.name.clone(), declared);
        assert!(
            previous.is_none(),
            "the plan declares exchange {} twice",
            exchange.name
        );
    }

    let mut bindings: Vec<String> = plan
        .bindings()
        .map(|binding| {
            let binding: Binding = (
                binding.exchange.clone(),
                binding.queue.clone(),
                binding.routing_key.clone(),
                arguments_json(&binding.arguments),
            );
            format!("{binding:?}")
        })
        .collect();
    bindings.sort();

    Topology {
        queues,
        exchanges,
        bindings,
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` missing in {value}"))
}

/// What `definitions` (a RabbitMQ definitions export) holds for `vhost`, after checking
/// that every object is durable and every binding goes to a queue.
fn defined(definitions: &Value, vhost: &str) -> Topology {
    let mut queues = BTreeMap::new();
    for queue in definitions["queues"].as_array().expect("queues") {
        let name = text(queue, "name");
        assert_eq!(text(queue, "vhost"), vhost, "queue {name}");
        assert_eq!(queue["durable"], true, "queue {name} must be durable");
        assert_eq!(queue["auto_delete"], false, "queue {name}");
        let previous = queues.insert(name.to_string(), queue["arguments"].clone());
        assert!(previous.is_none(), "queue {name} is defined twice");
    }

    let mut exchanges = BTreeMap::new();
    for exchange in definitions["exchanges"].as_array().expect("exchanges") {
        let name = text(exchange, "name");
        assert_eq!(text(exchange, "vhost"), vhost, "exchange {name}");
        assert_eq!(exchange["durable"], true, "exchange {name} must be durable");
        assert_eq!(exchange["auto_delete"], false, "exchange {name}");
        assert_eq!(exchange["internal"], false, "exchange {name}");
        let kind = text(exchange, "type").to_string();
        let previous = exchanges.insert(name.to_string(), (kind, exchange["arguments"].clone()));
        assert!(previous.is_none(), "exchange {name} is defined twice");
    }

    let mut bindings = Vec::new();
    for binding in definitions["bindings"].as_array().expect("bindings") {
        assert_eq!(text(binding, "vhost"), vhost);
        assert_eq!(text(binding, "destination_type"), "queue");
        let found: Binding = (
            text(binding, "source").to_string(),
            text(binding, "destination").to_string(),
            text(binding, "routing_key").to_string(),
            binding["arguments"].clone(),
        );
        bindings.push(format!("{found:?}"));
    }
    bindings.sort();

    Topology {
        queues,
        exchanges,
        bindings,
    }
}

#[test]
fn rabbitmq_definitions_match_the_declared_topology() {
    let settings = default_settings();
    assert_eq!(
        settings.accounts.keys().collect::<Vec<_>>(),
        vec![ALIAS],
        "the example has one account"
    );
    let expected = planned(&settings);
    let definitions = json_file(&repo().join("deploy/rabbitmq/definitions.json"));
    let found = defined(&definitions, "/");

    // Compared part by part so that a failure names what differs.
    assert_eq!(found.queues, expected.queues, "queues and their arguments");
    assert_eq!(
        found.exchanges, expected.exchanges,
        "exchanges, types and arguments"
    );
    assert_eq!(found.bindings, expected.bindings, "bindings");
}

#[test]
fn the_rabbitmq_policy_bounds_only_the_default_results_queue() {
    let names = Names::new(default_settings().topology.prefix.as_str());
    let definitions = json_file(&repo().join("deploy/rabbitmq/definitions.json"));
    let policies = definitions["policies"].as_array().expect("policies");
    let results_pattern = format!("^{}$", names.results_default().replace('.', "\\."));

    let bounding = policies
        .iter()
        .find(|policy| policy["pattern"] == results_pattern.as_str())
        .unwrap_or_else(|| panic!("no policy with pattern {results_pattern}"));
    assert_eq!(bounding["apply-to"], "queues");
    let definition = &bounding["definition"];
    assert!(
        definition["max-length"].as_u64().is_some_and(|n| n > 0),
        "the results policy bounds the length: {definition}"
    );
    assert!(
        definition["message-ttl"].as_u64().is_some_and(|n| n > 0),
        "the results policy bounds the age: {definition}"
    );
    assert_ne!(
        definition["overflow"], "reject-publish",
        "a full results queue must not refuse results"
    );

    // Queue arguments the code relies on are never changed by policy.
    for policy in policies {
        for key in [
            "delivery-limit",
            "dead-letter-exchange",
            "dead-letter-strategy",
            "queue-type",
        ] {
            assert!(
                policy["definition"].get(key).is_none(),
                "policy {} sets {key}",
                policy["name"]
            );
        }
    }
}

/// The Kubernetes objects of `deploy/kubernetes`, by kind and name.
fn manifests() -> BTreeMap<(String, String), Value> {
    let mut objects = BTreeMap::new();
    for path in files("deploy/kubernetes", ".yaml") {
        if path.ends_with("kustomization.yaml") {
            continue;
        }
        for document in yaml_documents(&path) {
            let kind = text(&document, "kind").to_string();
            let name = text(&document["metadata"], "name").to_string();
            let previous = objects.insert((kind.clone(), name.clone()), document);
            assert!(previous.is_none(), "{kind} {name} is defined twice");
        }
    }
    objects
}

fn object<'a>(objects: &'a BTreeMap<(String, String), Value>, kind: &str, name: &str) -> &'a Value {
    objects
        .get(&(kind.to_string(), name.to_string()))
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

fn only_container(pod: &Value) -> &Value {
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "one container per pod");
    &containers[0]
}

/// The settings a container loads: its `--config` file from the ConfigMap volume, and its
/// environment with secret references resolved from the Secret template.
fn container_settings(
    objects: &BTreeMap<(String, String), Value>,
    pod: &Value,
    dir: &Path,
) -> (Settings, HashMap<String, String>) {
    let container = only_container(pod);
    let args: Vec<&str> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|arg| arg.as_str().expect("arg"))
        .collect();
    let config = args
        .iter()
        .position(|arg| *arg == "--config")
        .map(|at| Path::new(args[at + 1]))
        .expect("--config FILE");

    let mount = container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|mount| config.parent() == Some(Path::new(text(mount, "mountPath"))))
        .unwrap_or_else(|| panic!("{} is not in a mounted volume", config.display()));
    let volume = pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|volume| volume["name"] == mount["name"])
        .expect("the mounted volume");
    let config_map = object(objects, "ConfigMap", text(&volume["configMap"], "name"));
    let file_name = config.file_name().unwrap().to_str().unwrap();
    let toml = text(&config_map["data"], file_name);

    let secret = object(objects, "Secret", "fleet-secrets");
    let mut environment = HashMap::new();
    let mut secret_keys = HashMap::new();
    for variable in container["env"].as_array().expect("env") {
        let name = text(variable, "name").to_string();
        let value = match variable.get("value") {
            Some(value) => value.as_str().expect("env value").to_string(),
            None => {
                let reference = &variable["valueFrom"]["secretKeyRef"];
                assert_eq!(text(reference, "name"), "fleet-secrets", "{name}");
                let key = text(reference, "key");
                secret_keys.insert(name.clone(), key.to_string());
                text(&secret["stringData"], key).to_string()
            }
        };
        environment.insert(name, value);
    }

    let path = dir.join(file_name);
    std::fs::write(&path, toml).expect("write fleet.toml");
    let settings = Settings::load_from(Some(&path), Some(environment))
        .unwrap_or_else(|e| panic!("the ConfigMap's {file_name} does not load: {e}"));

    assert!(
        secret_keys.contains_key("FLEET__BROKER__URL"),
        "the broker URL comes from the Secret"
    );
    for alias in settings.accounts.keys() {
        let variable = format!("FLEET__ACCOUNTS__{}__CLIENT_SECRET", alias.to_uppercase());
        assert!(
            secret_keys.contains_key(&variable),
            "{variable} comes from the Secret"
        );
    }
    (settings, secret_keys)
}

fn port_number(container: &Value, port: &Value) -> u64 {
    if let Some(number) = port.as_u64() {
        return number;
    }
    let name = port.as_str().expect("port name or number");
    container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("no container port {name}"))
}

#[test]
fn kubernetes_manifests_run_the_worker_as_configured() {
    let objects = manifests();
    let dir = tempfile::tempdir().expect("temporary directory");

    let deployment = object(&objects, "Deployment", "fleet-worker");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = only_container(pod);
    let args = container["args"].as_array().expect("args");
    assert_eq!(args.last().and_then(Value::as_str), Some("worker"));
    let (settings, secret_keys) = container_settings(&objects, pod, dir.path());

    // The metrics port: all interfaces, probed and scraped where the worker listens.
    let listen = settings.metrics.listen;
    assert!(
        listen.ip().is_unspecified(),
        "metrics.listen {listen} in a pod"
    );
    let port = u64::from(listen.port());
    let liveness = &container["livenessProbe"]["httpGet"];
    let readiness = &container["readinessProbe"]["httpGet"];
    assert_eq!(liveness["path"], "/healthz");
    assert_eq!(readiness["path"], "/readyz");
    assert_eq!(port_number(container, &liveness["port"]), port);
    assert_eq!(port_number(container, &readiness["port"]), port);
    let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], port.to_string());
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let monitor = object(&objects, "PodMonitor", "fleet-worker");
    let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
    assert_eq!(port_number(container, &endpoint["port"]), port);

    // Stopping: the worker's grace period ends before the kubelet's.
    let kubelet_grace = pod["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("grace");
    assert!(
        settings.worker.shutdown_grace_secs < kubelet_grace,
        "worker.shutdown_grace_secs {} must be under terminationGracePeriodSeconds {kubelet_grace}",
        settings.worker.shutdown_grace_secs
    );

    // Not root, nothing written to the image, resources bounded.
    for (kind, name) in [
        ("Deployment", "fleet-worker"),
        ("Job", "fleet-topology-apply"),
    ] {
        let pod = &object(&objects, kind, name)["spec"]["template"]["spec"];
        let container = only_container(pod);
        assert_eq!(
            pod["securityContext"]["runAsNonRoot"], true,
            "{kind} {name}"
        );
        let security = &container["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{kind} {name}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{kind} {name}");
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    container["resources"][bound][resource].is_string(),
                    "{kind} {name}: resources.{bound}.{resource}"
                );
            }
        }
    }

    // The topology Job declares what the workers use.
    let job_pod = &object(&objects, "Job", "fleet-topology-apply")["spec"]["template"]["spec"];
    let job_args: Vec<&str> = only_container(job_pod)["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(job_args.ends_with(&["topology", "apply"]), "{job_args:?}");
    let (job_settings, _) = container_settings(&objects, job_pod, dir.path());
    assert_eq!(job_settings.topology.prefix, settings.topology.prefix);
    assert_eq!(
        job_settings.accounts.keys().collect::<Vec<_>>(),
        settings.accounts.keys().collect::<Vec<_>>()
    );

    // KEDA scales the Deployment on the queue of every account it serves.
    let names = Names::new(settings.topology.prefix.as_str());
    let scaled = object(&objects, "ScaledObject", "fleet-worker");
    assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], "fleet-worker");
    let triggers = scaled["spec"]["triggers"].as_array().expect("triggers");
    let scaled_queues: BTreeSet<&str> = triggers
        .iter()
        .inspect(|trigger| assert_eq!(trigger["type"], "rabbitmq"))
        .map(|trigger| text(&trigger["metadata"], "queueName"))
        .collect();
    let account_queues: BTreeSet<String> = settings
        .accounts
        .keys()
        .map(|alias| names.account_queue(alias))
        .collect();
    assert_eq!(
        scaled_queues,
        account_queues.iter().map(String::as_str).collect()
    );
    for trigger in triggers {
        let auth_name = text(&trigger["authenticationRef"], "name");
        let auth = object(&objects, "TriggerAuthentication", auth_name);
        let host = auth["spec"]["secretTargetRef"]
            .as_array()
            .expect("secretTargetRef")
            .iter()
            .find(|target| target["parameter"] == "host")
            .expect("a host parameter");
        assert_eq!(text(host, "name"), "fleet-secrets");
        assert_eq!(
            Some(text(host, "key")),
            secret_keys.get("FLEET__BROKER__URL").map(String::as_str),
            "KEDA reads the broker the workers use"
        );
    }

    // The example settings describe the same topology as deploy/rabbitmq.
    let defaults = default_settings();
    assert_eq!(settings.topology.prefix, defaults.topology.prefix);
    assert_eq!(
        settings.topology.delivery_limit,
        defaults.topology.delivery_limit
    );
    assert_eq!(settings.retry_delays(), defaults.retry_delays());
    assert_eq!(
        settings.accounts.keys().collect::<Vec<_>>(),
        defaults.accounts.keys().collect::<Vec<_>>()
    );
}

#[test]
fn the_secret_template_holds_placeholders_only() {
    let objects = manifests();
    let secret = object(&objects, "Secret", "fleet-secrets");
    assert!(secret.get("data").is_none(), "the template uses stringData");
    let values = secret["stringData"].as_object().expect("stringData");
    assert!(!values.is_empty());
    for (key, value) in values {
        assert!(
            value.as_str().is_some_and(|v| v.contains("REPLACE_ME")),
            "secret key {key} must hold a REPLACE_ME placeholder, never a real value"
        );
    }

    let kustomization = yaml_documents(&repo().join("deploy/kubernetes/kustomization.yaml"));
    let resources: Vec<&str> = kustomization[0]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !resources.contains(&"secret.example.yaml"),
        "the placeholder Secret is never applied with the rest"
    );
    for resource in resources {
        assert!(
            repo().join("deploy/kubernetes").join(resource).is_file(),
            "kustomization.yaml lists a missing {resource}"
        );
    }
}
