//! Every typed Octopus model holds every value its schema in the Octopus Server 2021.2
//! swagger document allows (issue 17).

#[path = "../../../tests/conformance/spec.rs"]
mod spec;

use std::path::Path;

use ocean_octopus::{Deployment, Environment, Machine, Project, Release, Space};
use spec::{Spec, assert_conforms, check};

#[test]
fn every_octopus_model_holds_its_schemas_range() {
    let spec = Spec::load(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "octopus-server-2021.2.swagger.json",
    );
    let mut failures = Vec::new();
    failures.extend(check::<Space>(&spec, "SpaceResource", "Space"));
    failures.extend(check::<Project>(&spec, "ProjectResource", "Project"));
    failures.extend(check::<Release>(&spec, "ReleaseResource", "Release"));
    failures.extend(check::<Deployment>(
        &spec,
        "DeploymentResource",
        "Deployment",
    ));
    failures.extend(check::<Machine>(&spec, "MachineResource", "Machine"));
    failures.extend(check::<Environment>(
        &spec,
        "EnvironmentResource",
        "Environment",
    ));
    assert_conforms(failures);
}
