use std::process::ExitCode;

use duo_openvpn::system::process::Process;

fn main() -> ExitCode {
    ExitCode::from(duo_openvpn::run(&Process::os()))
}
