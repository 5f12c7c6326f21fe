//! Service types (workflow templates): CRUD and its validation, the YAML import that refuses a broken
//! document whole with every problem at its path, the byte-identical export → import → export, who
//! may do what, and the `fieldflow templates` commands.

use crate::support::{TestApp, TestResponse};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use domain::Role;
use fieldflow::actor::Actor;
use fieldflow::{seed, service_types};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::process::Command;

/// Two templates, written the way a person would: flow style, not sorted, untrimmed text.
const BASE: &str = r#"version: 1
service_types:
  - code: washing_machine_repair
    name: Washing machine repair
    default_duration_minutes: 90
    default_price_minor: 350000
    required_skills: [washing_machines]
    checklist:
      - { id: diagnose, label: Diagnose the fault, required: true }
      - { id: repair, label: Repair }
    required_photos: { before: 1, after: 1 }
    approval_required: true
    sla_minutes: { urgent: 240, high: 480, normal: 1440, low: 4320 }
  - code: ac_install
    name: Air conditioner installation
    description: "  Split system, up to 5 m of lines.  "
    default_duration_minutes: 240
    required_skills: [air_conditioners, electrical]
    checklist:
      - { id: mount, label: Mount the units }
      - { id: test_run, label: "Test run: all modes", required: false }
    required_photos: { after: 3 }
    sla_minutes: { normal: 2880 }
"#;

/// What the export makes of [`BASE`]: sorted by code, every key in its fixed place.
const CANONICAL: &str = r#"version: 1
service_types:
- code: ac_install
  name: Air conditioner installation
  description: Split system, up to 5 m of lines.
  default_duration_minutes: 240
  default_price_minor: 0
  required_skills:
  - air_conditioners
  - electrical
  checklist:
  - id: mount
    label: Mount the units
    required: true
  - id: test_run
    label: 'Test run: all modes'
    required: false
  required_photos:
    before: 0
    after: 3
  approval_required: false
  sla_minutes:
    normal: 2880
- code: washing_machine_repair
  name: Washing machine repair
  default_duration_minutes: 90
  default_price_minor: 350000
  required_skills:
  - washing_machines
  checklist:
  - id: diagnose
    label: Diagnose the fault
    required: true
  - id: repair
    label: Repair
    required: true
  required_photos:
    before: 1
    after: 1
  approval_required: true
  sla_minutes:
    urgent: 240
    high: 480
    normal: 1440
    low: 4320
"#;

/// `BASE` with one replacement, which must apply.
fn variant(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in the base document");
    BASE.replacen(from, to, 1)
}

/// An organization with an admin and a technician whose skills the base document requires.
async fn acme(app: &TestApp) -> (domain::OrgId, String) {
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_technician(org, "tech@acme.test", &["washing_machines", "air_conditioners", "electrical"], &["north"])
        .await;
    (org, app.token_for("admin@acme.test").await)
}

async fn import(app: &TestApp, token: &str, content_type: Option<&str>, body: impl Into<Body>) -> TestResponse {
    let mut request =
        Request::post("/api/v1/service-types/import").header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    app.send(request.body(body.into()).unwrap()).await
}

async fn import_yaml(app: &TestApp, token: &str, document: &str) -> TestResponse {
    import(app, token, Some("application/yaml"), document.to_owned()).await
}

async fn export(app: &TestApp, token: &str) -> String {
    let response = app.get("/api/v1/service-types/export", Some(token)).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    assert_eq!(response.headers[header::CONTENT_TYPE], "application/yaml");
    response.body.as_str().expect("a YAML text").to_owned()
}

/// Every problem of a 422 answer as `path: message (code)`, in path order.
fn problems(response: &TestResponse) -> Vec<String> {
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", response.body);
    assert_eq!(response.code(), "validation_failed");
    let fields = response.body["error"]["details"]["fields"].as_object().expect("field details");
    fields
        .iter()
        .flat_map(|(path, list)| {
            list.as_array()
                .unwrap()
                .iter()
                .map(move |e| format!("{path}: {} ({})", e["message"].as_str().unwrap(), e["code"].as_str().unwrap()))
        })
        .collect()
}

/// Every service type row, all columns, in a comparable form.
async fn rows(db: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT row_to_json(s)::text FROM service_types s ORDER BY id").fetch_all(db).await.unwrap()
}

async fn audit_count(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'service_type%'").fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn five_broken_templates_are_refused_with_precise_messages_and_nothing_is_written(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, admin) = acme(&app).await;

    let broken = [
        (
            "unknown key",
            variant("    name: Washing machine repair\n", "    name: Washing machine repair\n    colour: blue\n"),
            "service_types[0].colour: unknown key (unknown_key)",
        ),
        (
            "duplicate checklist id",
            variant("{ id: repair, label: Repair }", "{ id: diagnose, label: Repair }"),
            "service_types[0].checklist[1].id: duplicate checklist id \"diagnose\" (duplicate_id)",
        ),
        (
            "negative duration",
            variant("default_duration_minutes: 240", "default_duration_minutes: -30"),
            "service_types[1].default_duration_minutes: must be positive (out_of_range)",
        ),
        (
            "unknown skill",
            variant("[air_conditioners, electrical]", "[air_conditioners, hvac]"),
            "service_types[1].required_skills[1]: unknown skill \"hvac\": no technician of the organization has it (unknown_skill)",
        ),
        (
            "wrong type",
            variant("approval_required: true", "approval_required: \"yes\""),
            "service_types[0].approval_required: expected a boolean (true or false) (wrong_type)",
        ),
    ];
    // Into an empty organization: the valid template beside the broken one is not created either.
    for (case, document, expected) in &broken {
        let response = import_yaml(&app, &admin, document).await;
        assert_eq!(problems(&response), [*expected], "{case}");
        assert!(rows(&db).await.is_empty(), "{case}: something was written");
    }

    // Over existing templates: a document that would also change a valid one changes nothing.
    let created = import_yaml(&app, &admin, BASE).await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(created.body, json!({ "created": 2, "updated": 0, "unchanged": 0 }));
    let before = rows(&db).await;
    let audits = audit_count(&db).await;
    for (case, document, expected) in &broken {
        let document = document.replace("default_price_minor: 350000", "default_price_minor: 360000");
        let response = import_yaml(&app, &admin, &document).await;
        assert_eq!(problems(&response), [*expected], "{case}");
        assert_eq!(rows(&db).await, before, "{case}: something was written");
    }
    assert_eq!(audit_count(&db).await, audits);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_document_with_many_problems_reports_every_one(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, admin) = acme(&app).await;
    let document = BASE
        .replacen("version: 1", "version: 1\nowner: me", 1)
        .replacen("    name: Washing machine repair\n", "    name: Washing machine repair\n    colour: blue\n", 1)
        .replacen("{ id: repair, label: Repair }", "{ id: diagnose, label: Repair }", 1)
        .replacen("default_duration_minutes: 240", "default_duration_minutes: -30", 1)
        .replacen("[air_conditioners, electrical]", "[air_conditioners, hvac, \"Two words\"]", 1)
        .replacen("approval_required: true", "approval_required: \"yes\"", 1)
        .replacen("{ before: 1, after: 1 }", "{ before: -1, after: lots }", 1)
        .replacen("sla_minutes: { normal: 2880 }", "sla_minutes: { normal: 0, soon: 5 }", 1)
        + "  - code: ac_install\n    default_duration_minutes: 60\n  - [not, a, template]\n";
    let response = import_yaml(&app, &admin, &document).await;
    assert_eq!(
        problems(&response),
        [
            "owner: unknown key (unknown_key)",
            "service_types[0].approval_required: expected a boolean (true or false) (wrong_type)",
            "service_types[0].checklist[1].id: duplicate checklist id \"diagnose\" (duplicate_id)",
            "service_types[0].colour: unknown key (unknown_key)",
            "service_types[0].required_photos.after: expected an integer (wrong_type)",
            "service_types[0].required_photos.before: must not be negative (out_of_range)",
            "service_types[1].default_duration_minutes: must be positive (out_of_range)",
            "service_types[1].required_skills[1]: unknown skill \"hvac\": no technician of the organization has it (unknown_skill)",
            "service_types[1].required_skills[2]: may hold only letters, digits, '_' and '-' (invalid_tag)",
            "service_types[1].sla_minutes.normal: must be positive (out_of_range)",
            "service_types[1].sla_minutes.soon: unknown key (unknown_key)",
            "service_types[2].code: duplicate code \"ac_install\"; service_types[1] has it too (duplicate_code)",
            "service_types[2].name: is required (missing)",
            "service_types[3]: expected a mapping (wrong_type)",
        ]
    );
    assert!(rows(&db).await.is_empty());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn export_then_import_then_export_is_byte_identical(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, admin) = acme(&app).await;
    assert_eq!(export(&app, &admin).await, "version: 1\nservice_types: []\n");
    let created = import_yaml(&app, &admin, BASE).await;
    assert_eq!(created.body, json!({ "created": 2, "updated": 0, "unchanged": 0 }));

    let first = export(&app, &admin).await;
    assert_eq!(first, CANONICAL);
    let stored = rows(&db).await;
    let again = import_yaml(&app, &admin, &first).await;
    assert_eq!(again.body, json!({ "created": 0, "updated": 0, "unchanged": 2 }));
    assert_eq!(rows(&db).await, stored, "an import of what is there touches nothing, updated_at included");
    assert_eq!(export(&app, &admin).await, first, "export → import → export is byte-identical");

    // Into another organization with the same skills: the same document comes out.
    let bolt = app.with_org("Bolt Services").await;
    app.with_user(bolt, Role::Admin, "admin@bolt.test").await;
    app.with_technician(bolt, "tech@bolt.test", &["washing_machines", "air_conditioners", "electrical"], &[]).await;
    let bolt_admin = app.token_for("admin@bolt.test").await;
    let copied = import(&app, &bolt_admin, Some("text/yaml; charset=utf-8"), first.clone()).await;
    assert_eq!(copied.body, json!({ "created": 2, "updated": 0, "unchanged": 0 }));
    assert_eq!(export(&app, &bolt_admin).await, first);

    // A changed document updates by code; the untouched template keeps its timestamp.
    let ac_before: Value = app.get("/api/v1/service-types", Some(&admin)).await.body["items"][1].clone();
    let changed = first.replace("default_price_minor: 350000", "default_price_minor: 400000");
    let updated = import_yaml(&app, &admin, &changed).await;
    assert_eq!(updated.body, json!({ "created": 0, "updated": 1, "unchanged": 1 }));
    let items = app.get("/api/v1/service-types", Some(&admin)).await.body["items"].clone();
    assert_eq!(items[1], ac_before);
    assert_eq!(items[0]["default_price"], json!({ "amount_minor": 400000, "currency": "RUB" }));
    assert_eq!(export(&app, &admin).await, changed);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_admin_creates_reads_changes_and_archives_service_types(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (org, admin) = acme(&app).await;

    let created = app
        .post(
            "/api/v1/service-types",
            Some(&admin),
            json!({ "code": "washing_machine_repair", "name": " Washing machine repair ", "default_duration_minutes": 90,
                    "default_price_minor": 350000, "required_skills": ["Washing_Machines"],
                    "checklist": [{ "id": "diagnose", "label": "Diagnose" }, { "id": "photo", "label": "Photo", "required": false }],
                    "required_photos": { "before": 1, "after": 2 }, "approval_required": true,
                    "sla_minutes": { "urgent": 240, "normal": 1440 } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let body = &created.body;
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["code"], "washing_machine_repair");
    assert_eq!(body["name"], "Washing machine repair");
    assert_eq!(body["description"], Value::Null);
    assert_eq!(body["default_duration_minutes"], 90);
    assert_eq!(body["default_price"], json!({ "amount_minor": 350000, "currency": "RUB" }));
    assert_eq!(body["required_skills"], json!(["washing_machines"]));
    assert_eq!(
        body["checklist"],
        json!([{ "id": "diagnose", "label": "Diagnose", "required": true }, { "id": "photo", "label": "Photo", "required": false }])
    );
    assert_eq!(body["required_photos"], json!({ "before": 1, "after": 2 }));
    assert_eq!(body["approval_required"], true);
    assert_eq!(body["sla_minutes"], json!({ "urgent": 240, "normal": 1440 }));
    assert_eq!(body["archived_at"], Value::Null);
    assert_eq!(app.get(&format!("/api/v1/service-types/{id}"), Some(&admin)).await.body, *body);

    // Every bad field at once, the unknown skill included; nothing written.
    let refused = app
        .post(
            "/api/v1/service-types",
            Some(&admin),
            json!({ "code": "Bad Code", "name": "", "default_duration_minutes": 0, "default_price_minor": -5,
                    "required_skills": ["hvac", "washing_machines"],
                    "checklist": [{ "id": "a", "label": "A" }, { "id": "a", "label": "B" }],
                    "required_photos": { "before": 99 }, "sla_minutes": { "low": -1 } }),
        )
        .await;
    let fields: Vec<String> = problems(&refused).iter().map(|p| p.split(':').next().unwrap().to_owned()).collect();
    assert_eq!(
        fields,
        [
            "checklist[1].id",
            "code",
            "default_duration_minutes",
            "default_price_minor",
            "name",
            "required_photos.before",
            "required_skills[0]",
            "sla_minutes.low"
        ]
    );
    let taken = app
        .post(
            "/api/v1/service-types",
            Some(&admin),
            json!({ "code": "washing_machine_repair", "name": "Again", "default_duration_minutes": 5 }),
        )
        .await;
    assert_eq!(problems(&taken), ["code: another service type of the organization has this code (code_taken)"]);
    let unknown_field = app
        .post(
            "/api/v1/service-types",
            Some(&admin),
            json!({ "code": "x", "name": "X", "default_duration_minutes": 5, "colour": "red" }),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rows(&db).await.len(), 1);

    // PATCH: given fields change, the rest stays; a PATCH that changes nothing leaves updated_at.
    let path = format!("/api/v1/service-types/{id}");
    let patched = app
        .patch(&path, Some(&admin), json!({ "name": "Washer repair", "description": "On site.", "checklist": [{ "id": "fix", "label": "Fix" }] }))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["name"], "Washer repair");
    assert_eq!(patched.body["description"], "On site.");
    assert_eq!(patched.body["checklist"], json!([{ "id": "fix", "label": "Fix", "required": true }]));
    assert_eq!(patched.body["sla_minutes"], body["sla_minutes"]);
    let same = app.patch(&path, Some(&admin), json!({ "name": "Washer repair", "approval_required": true })).await;
    assert_eq!(same.body, patched.body, "nothing changed, not even updated_at");
    let bad = app
        .patch(&path, Some(&admin), json!({ "required_skills": ["plumbing"], "default_duration_minutes": -1 }))
        .await;
    assert_eq!(
        problems(&bad),
        [
            "default_duration_minutes: must be positive (out_of_range)",
            "required_skills[0]: unknown skill \"plumbing\": no technician of the organization has it (unknown_skill)",
        ]
    );
    let cleared = app.patch(&path, Some(&admin), json!({ "description": null })).await;
    assert_eq!(cleared.body["description"], Value::Null);

    // Archived: out of the list and the export unless asked for, and an import by code restores it.
    let archived = app.post(&format!("{path}/archive"), Some(&admin), json!({})).await;
    assert_eq!(archived.status, StatusCode::OK);
    assert!(archived.body["archived_at"].is_string());
    let again = app.post(&format!("{path}/archive"), Some(&admin), json!({})).await;
    assert_eq!(again.body, archived.body, "archiving twice keeps the first time");
    assert_eq!(app.get("/api/v1/service-types", Some(&admin)).await.body["items"], json!([]));
    let all = app.get("/api/v1/service-types?include_archived=true", Some(&admin)).await;
    assert_eq!(crate::support::ids(&all.body), std::slice::from_ref(&id));
    assert_eq!(export(&app, &admin).await, "version: 1\nservice_types: []\n");
    let restored = import_yaml(&app, &admin, BASE).await;
    assert_eq!(restored.body, json!({ "created": 1, "updated": 1, "unchanged": 0 }));
    let back = app.get(&path, Some(&admin)).await.body;
    assert_eq!((back["archived_at"].clone(), back["name"].clone()), (Value::Null, json!("Washing machine repair")));

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE org_id = $1 AND action LIKE 'service_type%' ORDER BY id",
    )
    .bind(org.0)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "service_type.created",
            "service_type.updated",
            "service_type.updated",
            "service_type.archived",
            "service_types.imported"
        ]
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_list_is_keyset_paged(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, admin) = acme(&app).await;
    let mut document = String::from("version: 1\nservice_types:\n");
    for n in 0..5 {
        document.push_str(&format!("  - {{ code: t{n}, name: T{n}, default_duration_minutes: 30 }}\n"));
    }
    assert_eq!(import_yaml(&app, &admin, &document).await.body["created"], 5);
    let first = app.get("/api/v1/service-types?limit=3", Some(&admin)).await;
    assert_eq!(crate::support::ids(&first.body).len(), 3);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/service-types?limit=3&cursor={cursor}"), Some(&admin)).await;
    assert_eq!(crate::support::ids(&second.body).len(), 2);
    assert_eq!(second.body["next_cursor"], Value::Null);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn everyone_reads_only_admins_write_and_other_organizations_see_nothing(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (acme_org, admin) = acme(&app).await;
    import_yaml(&app, &admin, BASE).await;
    let id = app.get("/api/v1/service-types", Some(&admin)).await.body["items"][0]["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/service-types/{id}");
    app.with_user(acme_org, Role::Dispatcher, "disp@acme.test").await;
    app.with_user(acme_org, Role::Manager, "boss@acme.test").await;
    let before = rows(&db).await;
    let exported = export(&app, &admin).await;

    for email in ["disp@acme.test", "boss@acme.test", "tech@acme.test"] {
        let token = app.token_for(email).await;
        assert_eq!(app.get("/api/v1/service-types", Some(&token)).await.status, StatusCode::OK, "{email}");
        assert_eq!(app.get(&one, Some(&token)).await.status, StatusCode::OK, "{email}");
        assert_eq!(export(&app, &token).await, exported, "{email}");
        let writes = [
            app.post(
                "/api/v1/service-types",
                Some(&token),
                json!({ "code": "x", "name": "X", "default_duration_minutes": 5 }),
            )
            .await,
            app.patch(&one, Some(&token), json!({ "name": "Mine now" })).await,
            app.post(&format!("{one}/archive"), Some(&token), json!({})).await,
            // The role is checked before the body: a broken document says nothing about itself.
            import_yaml(&app, &token, "version: 1\nservice_types: [{ colour: red }]\n").await,
            import_yaml(&app, &token, BASE).await,
        ];
        for response in writes {
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{email}: {:?}", response.body);
            assert_eq!(response.code(), "forbidden");
        }
    }
    assert_eq!(rows(&db).await, before);

    let bolt = app.with_org("Bolt Services").await;
    app.with_user(bolt, Role::Admin, "admin@bolt.test").await;
    app.with_technician(bolt, "tech@bolt.test", &["washing_machines"], &[]).await;
    let intruder = app.token_for("admin@bolt.test").await;
    let attempts = [
        app.get(&one, Some(&intruder)).await,
        app.patch(&one, Some(&intruder), json!({ "name": "Mine now" })).await,
        app.post(&format!("{one}/archive"), Some(&intruder), json!({})).await,
    ];
    for response in attempts {
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{:?}", response.body);
        assert_eq!(response.code(), "not_found");
    }
    assert_eq!(app.get("/api/v1/service-types", Some(&intruder)).await.body["items"], json!([]));
    assert_eq!(export(&app, &intruder).await, "version: 1\nservice_types: []\n");
    // Skills are the organization's own: Bolt's technicians have no air conditioners.
    let theirs = import_yaml(&app, &intruder, BASE).await;
    assert_eq!(
        problems(&theirs),
        [
            "service_types[1].required_skills[0]: unknown skill \"air_conditioners\": no technician of the organization has it (unknown_skill)",
            "service_types[1].required_skills[1]: unknown skill \"electrical\": no technician of the organization has it (unknown_skill)",
        ]
    );
    let own = import_yaml(&app, &intruder, &BASE[..BASE.find("  - code: ac_install").unwrap()]).await;
    assert_eq!(own.body, json!({ "created": 1, "updated": 0, "unchanged": 0 }), "the same code is their own");
    assert_eq!(rows(&db).await[..before.len()], before[..], "Acme's templates are untouched");

    let anonymous = app.request(Method::GET, "/api/v1/service-types", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_import_route_takes_yaml_only_and_within_its_size(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, admin) = acme(&app).await;
    for content_type in [Some("application/json"), Some("text/plain"), None] {
        let response = import(&app, &admin, content_type, BASE).await;
        assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert_eq!(response.code(), "unsupported_media_type");
    }
    let huge = format!("{BASE}#{}\n", "x".repeat(service_types::routes::IMPORT_MAX_BYTES));
    let response = import(&app, &admin, Some("application/yaml"), huge).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.code(), "payload_too_large");
    // Larger than a JSON body may be, within the import's limit.
    let padded = format!("{BASE}#{}\n", "x".repeat(app.state.settings.max_json_body_bytes));
    assert_eq!(import(&app, &admin, Some("application/x-yaml"), padded).await.status, StatusCode::OK);

    let not_text = import(&app, &admin, Some("application/yaml"), &b"version: 1\n\xff\xfe"[..]).await;
    assert_eq!(problems(&not_text), ["document: is not UTF-8 text (invalid_encoding)"]);
    let syntax = import_yaml(&app, &admin, "version: 1\nservice_types:\n  - { code: a\n").await;
    let found = problems(&syntax);
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("document: is not valid YAML: ") && found[0].contains("line 4"), "{found:?}");
    let version = import_yaml(&app, &admin, "version: 2\nservice_types: []\n").await;
    assert_eq!(
        problems(&version),
        ["version: version 2 is not supported; this Fieldflow reads version 1 (unsupported_version)"]
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_demo_templates_are_in_the_export_format(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let report = seed::load_demo(&app.state, seed::DEMO).await.unwrap();
    assert_eq!(report.service_types.created, 5);
    let org = domain::OrgId(sqlx::query_scalar("SELECT id FROM organizations").fetch_one(&db).await.unwrap());
    let exported = service_types::service::export(&app.state, &Actor::System { org_id: org }).await.unwrap();
    let file: String = seed::DEMO_SERVICE_TYPES
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(exported, file, "seeds/service-types.yaml is exactly what the export writes");
}

/// The URL of the fresh database `#[sqlx::test]` made for this test.
fn database_url(db: &PgPool) -> String {
    let server = std::env::var("DATABASE_URL").unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{}", db.connect_options().get_database().unwrap())
}

fn templates(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fieldflow"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FIELDFLOW_DATABASE_URL", url)
        .env("FIELDFLOW_REDIS_KEY_PREFIX", format!("fieldflow-test:{}:", uuid::Uuid::new_v4()))
        .env("FIELDFLOW_LOG_FILTER", "warn")
        .arg("templates")
        .args(args)
        .output()
        .unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_command_line_imports_a_good_file_and_refuses_a_broken_one_with_paths(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, admin) = acme(&app).await;
    let url = database_url(&db);
    let dir = std::env::temp_dir().join(format!("fieldflow-templates-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken_file = dir.join("broken.yaml");
    let broken = BASE
        .replacen("    name: Washing machine repair\n", "    name: Washing machine repair\n    colour: blue\n", 1)
        .replacen("[air_conditioners, electrical]", "[air_conditioners, hvac]", 1)
        .replacen("default_duration_minutes: 240", "default_duration_minutes: -30", 1);
    std::fs::write(&broken_file, broken).unwrap();
    let good_file = dir.join("good.yaml");
    std::fs::write(&good_file, BASE).unwrap();

    let refused = templates(&url, &["import", "--org", "acme repairs", broken_file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "service_types[0].colour: unknown key",
            "service_types[1].default_duration_minutes: must be positive",
            "service_types[1].required_skills[1]: unknown skill \"hvac\": no technician of the organization has it",
        ],
        "{stderr}"
    );
    assert!(lines[3].contains("was not imported: 3 problem(s); nothing was written"), "{stderr}");
    assert!(rows(&db).await.is_empty());

    let accepted = templates(&url, &["import", "--org", "Acme Repairs", good_file.to_str().unwrap()]);
    assert!(accepted.status.success(), "{}", String::from_utf8_lossy(&accepted.stderr));
    assert_eq!(String::from_utf8_lossy(&accepted.stdout), "2 created, 0 updated, 0 unchanged\n");
    let exported = templates(&url, &["export", "--org", "Acme Repairs"]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    assert_eq!(String::from_utf8(exported.stdout).unwrap(), CANONICAL);
    assert_eq!(export(&app, &admin).await, CANONICAL);

    let again = templates(&url, &["import", "--org", "Acme Repairs", good_file.to_str().unwrap()]);
    assert_eq!(String::from_utf8_lossy(&again.stdout), "0 created, 0 updated, 2 unchanged\n");
    let nobody = templates(&url, &["export", "--org", "Nobody Here"]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("organization not found"));
    let missing = templates(&url, &["import", "--org", "Acme Repairs", dir.join("none.yaml").to_str().unwrap()]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none.yaml"));
    std::fs::remove_dir_all(&dir).unwrap();
}
