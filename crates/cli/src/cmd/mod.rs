pub mod audit;
pub mod cert;
pub mod demo;
pub mod evaluate;
pub mod import;
pub mod judgment;
pub mod policy;
pub mod serve;
