//! A property-based fuzz of the running API against its own OpenAPI document (schemathesis, from
//! the stack's venv): whatever it sends, the API never answers 5xx, and every answer has a status,
//! a content type and a body that the document declares for that route.

use e2e::TestApp;

#[tokio::test]
async fn the_api_answers_every_generated_request_as_its_openapi_document_says() {
    let app = TestApp::spawn().await;
    app.stocked_product(1_000).await;
    let schemathesis = app.stack.config.tools.temporal.with_file_name("schemathesis");
    let reports = app.stack.config.dir.join("schemathesis");

    let out = tokio::process::Command::new(&schemathesis)
        .arg("run")
        .arg(format!("{}/openapi.json", app.api))
        // As the manager (customer-only routes then answer their documented 403), without
        // signing that session out halfway, and without opening a live-update stream (it never
        // ends by design).
        .args(["--header", &format!("Authorization: Bearer {}", app.manager_token)])
        .args(["--exclude-path", "/auth/signout", "--exclude-path", "/events"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--generation-database",
            ":memory:",
            "--no-color",
            "--report-dir",
        ])
        .arg(&reports)
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .await
        .expect("schemathesis runs (make setup installs it)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(out.status.success(), "schemathesis found failures:\n{said}");
    assert!(said.contains("passed"), "it really ran test cases:\n{said}");
}
