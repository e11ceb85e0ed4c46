//! The generated schema (`crate::schema::builtin()`) against this module's hand table
//! (`schema.rs`), message by message: every field number, JSON name and type must agree, and
//! the differences in how a zero scalar shows (Go pointer vs value, which no crate records) are
//! each of a kind explained below. Delete this file with `schema.rs`.

use super::schema::{Card, KINDS, Message, Type};
use crate::schema::{self, Definition, Scalar, Shape, Ty, Wire, ZeroRule};

/// Hand messages reachable from `KINDS`, each once.
fn messages() -> Vec<&'static Message> {
    fn walk(message: &'static Message, out: &mut Vec<&'static Message>) {
        if out.iter().any(|m| std::ptr::eq(*m, message)) {
            return;
        }
        out.push(message);
        for field in message.fields {
            let mut ty = &field.ty;
            while let Type::Map(inner) = ty {
                ty = inner;
            }
            if let Type::Msg(inner) = ty {
                walk(inner, out);
            }
        }
    }
    let mut out = Vec::new();
    for (_, _, message) in KINDS {
        walk(message, &mut out);
    }
    out
}

/// The definition of a message; the hand table spells names as prost does
/// (`AwsElasticBlockStoreVolumeSource`, `HpaScalingRules`), Go's are `AWS…`, `HPA…`.
fn definition(proto: &str) -> Option<&'static Definition> {
    schema::builtin()
        .iter()
        .map(|(_, d)| d)
        .find(|d| d.proto.is_some_and(|p| p.eq_ignore_ascii_case(proto)))
}

fn same_proto(definition: &Definition, proto: &str) -> bool {
    definition.proto.is_some_and(|p| p.eq_ignore_ascii_case(proto))
}

/// Go's named slices (`ExtraValue`): a message `{repeated items = 1}` that is no definition
/// (the generated field is `wrapped`).
fn is_wrapper(message: &Message) -> bool {
    matches!(message.fields, [items] if items.number == 1 && items.json == "items" && items.card == Card::Rep)
}

/// What the hand table has and 1.33 has not: fields and messages of 1.34 and 1.35, which
/// k8s-pb 0.9 holds (the hand table was made from it) and the generated table leaves out.
const NEWER_THAN_1_33: &[&str] = &[
    "k8s.io.api.core.v1.Container.restartPolicyRules (25): no generated field",
    "k8s.io.api.core.v1.ContainerExtendedResourceRequest: no definition",
    "k8s.io.api.core.v1.ContainerRestartRule: no definition",
    "k8s.io.api.core.v1.ContainerRestartRuleOnExitCodes: no definition",
    "k8s.io.api.core.v1.EnvVarSource.fileKeyRef (5): no generated field",
    "k8s.io.api.core.v1.EphemeralContainerCommon.restartPolicyRules (25): no generated field",
    "k8s.io.api.core.v1.FileKeySelector: no definition",
    "k8s.io.api.core.v1.PodCertificateProjection: no definition",
    "k8s.io.api.core.v1.PodExtendedResourceClaimStatus: no definition",
    "k8s.io.api.core.v1.PodSpec.hostnameOverride (41): no generated field",
    "k8s.io.api.core.v1.PodSpec.workloadRef (42): no generated field",
    "k8s.io.api.core.v1.PodStatus.allocatedResources (19): no generated field",
    "k8s.io.api.core.v1.PodStatus.extendedResourceClaimStatus (18): no generated field",
    "k8s.io.api.core.v1.PodStatus.resources (20): no generated field",
    "k8s.io.api.core.v1.VolumeProjection.podCertificate (6): no generated field",
    "k8s.io.api.core.v1.WorkloadReference: no definition",
];

fn wire(ty: &Ty) -> Option<Wire> {
    match ty {
        Ty::Ref(id) => match schema::builtin().get(*id).shape {
            Shape::Wire(wire) => Some(wire),
            _ => None,
        },
        _ => None,
    }
}

/// The hand type of one value (not a list) is the generated one.
fn same_element(hand: &Type, generated: &Ty, wrapped: bool) -> bool {
    match (hand, generated) {
        (Type::Str, Ty::Scalar(Scalar::String))
        | (Type::I32, Ty::Scalar(Scalar::Int32))
        | (Type::I64, Ty::Scalar(Scalar::Int64))
        | (Type::Bool, Ty::Scalar(Scalar::Bool))
        | (Type::Bytes, Ty::Scalar(Scalar::Bytes)) => true,
        (Type::Time, _) => wire(generated) == Some(Wire::Time),
        (Type::MicroTime, _) => wire(generated) == Some(Wire::MicroTime),
        (Type::IntOrString, _) => wire(generated) == Some(Wire::IntOrString),
        (Type::Quantity, _) => wire(generated) == Some(Wire::Quantity),
        (Type::RawExtension, _) => wire(generated) == Some(Wire::RawExtension),
        (Type::FieldsV1, _) => wire(generated) == Some(Wire::FieldsV1),
        (Type::Msg(message), Ty::Ref(id)) => same_proto(schema::builtin().get(*id), message.name),
        // `map[string]ExtraValue`: the hand table names the wrapper message `{items = 1}`.
        (Type::Msg(message), Ty::Array(inner)) if wrapped => {
            matches!(message.fields, [items] if items.number == 1 && items.card == Card::Rep
                && same_element(&items.ty, inner, false))
        }
        (Type::Map(hand), Ty::Map(generated)) => same_element(hand, generated, wrapped),
        _ => false,
    }
}

#[test]
fn generated_numbers_names_and_types_match_the_hand_table() {
    let mut differences = Vec::new();
    let mut zero_rule = Vec::new();
    let mut compared = 0;
    for message in messages() {
        if is_wrapper(message) {
            continue;
        }
        let Some(definition) = definition(message.name) else {
            differences.push(format!("{}: no definition", message.name));
            continue;
        };
        let numbered: Vec<_> = definition.fields().iter().filter(|f| f.number.is_some()).collect();
        for hand in message.fields {
            compared += 1;
            let at = format!("{}.{} ({})", message.name, hand.json, hand.number);
            let Some(generated) = numbered.iter().find(|f| f.number == Some(hand.number)) else {
                differences.push(format!("{at}: no generated field"));
                continue;
            };
            if generated.json != hand.json {
                differences.push(format!("{at}: generated JSON name {:?}", generated.json));
                continue;
            }
            let same = match (hand.card, &generated.ty) {
                (Card::Inline, Ty::Ref(_)) => generated.json.is_empty(),
                (Card::Rep, Ty::Map(_)) => same_element(&hand.ty, &generated.ty, generated.wrapped),
                (Card::Rep, Ty::Array(inner)) => same_element(&hand.ty, inner, false),
                (Card::Omit | Card::Keep, ty) => same_element(&hand.ty, ty, false),
                _ => false,
            };
            if !same {
                differences.push(format!(
                    "{at}: {:?} {:?} vs generated {:?}",
                    hand.ty, hand.card, generated.ty
                ));
                continue;
            }
            let hand_zero = match hand.card {
                Card::Omit => ZeroRule::Omit,
                Card::Keep => ZeroRule::Keep,
                Card::Rep | Card::Inline => continue,
            };
            if hand_zero != generated.zero {
                zero_rule.push((at, hand_zero, *generated));
            }
        }
        // Every generated field with a number is in the hand message.
        for generated in &numbered {
            if !message.fields.iter().any(|f| Some(f.number) == generated.number) {
                differences.push(format!(
                    "{}.{} ({:?}): not in the hand table",
                    message.name, generated.json, generated.number
                ));
            }
        }
    }
    differences.sort();
    // Each difference, explained:
    assert_eq!(differences, NEWER_THAN_1_33, "numbers, names or types differ");
    assert!(compared > 500, "{compared}");

    // The zero rule: required keeps; optional int/bool keeps; optional string drops "" (but for
    // `EMPTY_STRING_KEPT`). Where the hand table (Go's pointer-ness) says otherwise it is one of:
    let mut cosmetic = Vec::new(); // an omitempty int/bool value field: 0/false now shown
    let mut empty_string = Vec::new(); // a `*string` whose "" the rule drops
    let mut required = Vec::new(); // required in OpenAPI, omitempty in Go
    let mut other = Vec::new();
    for (at, hand, generated) in zero_rule {
        // `IngressSpec.ingressClassName` is a `*string` in Go (the hand table had it as a value):
        // a named exception of the rule, `""` opting out of the default class.
        if at == "k8s.io.api.networking.v1.IngressSpec.ingressClassName (4)" {
            continue;
        }
        match (hand, &generated.ty) {
            (ZeroRule::Omit, _) if generated.required => required.push(at),
            (
                ZeroRule::Omit,
                Ty::Scalar(Scalar::Int32 | Scalar::Int64 | Scalar::Bool | Scalar::Double),
            ) => cosmetic.push(at),
            (ZeroRule::Keep, Ty::Scalar(Scalar::String)) if !generated.required => {
                empty_string.push(at)
            }
            _ => other.push(format!("{at}: hand {hand:?}, generated {:?}", generated.zero)),
        }
    }
    assert!(other.is_empty(), "unexplained zero-rule differences: {other:#?}");
    eprintln!(
        "zero rule vs hand table: {} cosmetic (0/false shown), {} *string \"\" dropped, {} required in OpenAPI",
        cosmetic.len(),
        empty_string.len(),
        required.len()
    );
    eprintln!("*string \"\" dropped: {empty_string:#?}\nrequired: {required:#?}");
}
