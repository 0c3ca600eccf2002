pub mod evaluate;
pub mod policy;
