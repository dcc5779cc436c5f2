//! Prints the load benchmark's secrets and tokens (the corpus token `typical`, HS256 and
//! RS256), one `NAME=VALUE` per line, for `cargo xtask load-bench`.

#![expect(clippy::print_stdout, reason = "the tokens are this program's output")]

use jwtgate_test_support::corpus;

fn main() {
    for scenario in
        corpus::typical().into_iter().filter(|scenario| matches!(scenario.name, "hs256" | "rs256"))
    {
        let name = scenario.name.to_uppercase();
        println!("{name}_SECRET={}", scenario.secret);
        println!("{name}_TOKEN={}", scenario.token);
    }
}
