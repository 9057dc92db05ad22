//! `test` blocks in the plan: scripted inputs, watermarks, clock moves and expected
//! outputs, run by [`crate::testing::script`].

use serde::{Deserialize, Serialize};

use crate::time::EventTime;
use crate::value::{Record, Value};

/// One `test "name" { … }` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// The test's name.
    pub name: String,
    /// Its directives, in order.
    pub steps: Vec<TestStep>,
}

/// One directive of a test, with the line it was written on (for messages).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestStep {
    /// 1-based line in the program text.
    pub line: usize,
    /// What it does.
    pub action: TestAction,
}

/// What a test directive does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TestAction {
    /// `given <source> {…} {…}`: one bundle of records, in the source's schema.
    Given {
        /// Source name.
        source: String,
        /// Complete records (fields not written are null).
        records: Vec<Record>,
    },
    /// `watermark [<source>] <time>`: advance one source's watermark, or all of them.
    Watermark {
        /// The source, or `None` for all sources.
        source: Option<String>,
        /// The new watermark.
        time: EventTime,
    },
    /// `clock <time>`: advance processing time.
    Clock {
        /// The new processing time.
        time: EventTime,
    },
    /// `expect <sink> [ {…}, … ]`: what the sink received since the previous `expect`.
    Expect {
        /// Sink name.
        sink: String,
        /// Partial records: (field name, slot in the sink's schema, value) triples.
        records: Vec<Vec<ExpectedField>>,
    },
}

/// One field of an expected record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectedField {
    /// The field's name as written (dotted names allowed: `pane.timing`).
    pub name: String,
    /// Its slot in the records the sink receives.
    pub slot: usize,
    /// The value it must have.
    pub value: Value,
}
