//! `setup` for OpenVPN Access Server, from flags: our post-auth script rendered with the
//! credentials and put in with `sacli` by the same runner (recorded in the same manifest).

use crate::cli::{SetupArgs, exit};
use crate::setup::answers::{DuoFields, duo_settings, failmode, read_skey};
use crate::setup::effect::{AccessServerScript, Effect};
use crate::system::host::Host;

pub fn run(args: &SetupArgs, host: &Host, skey_env: Option<String>, terminal: bool) -> u8 {
    if terminal && !args.yes && !args.dry_run {
        eprintln!(
            "Access Server detected ({}). The wizard covers Community OpenVPN; for Access Server run:\n  \
             duo-openvpn setup --yes --target access-server --ikey IKEY --skey-file PATH --host HOST [--test-user USER]\n\
             (--dry-run first shows what it will do)",
            host.display_path(crate::system::detect::SACLI)
        );
        return exit::USAGE;
    }
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let settings = duo_settings(
        DuoFields {
            ikey: args.ikey.clone(),
            skey: read_skey(args.skey_file.as_ref(), skey_env),
            host: args.host.clone(),
            proxy: args.proxy.clone(),
            ca_file: args.ca_file.clone(),
            failmode: failmode(args.failmode),
        },
        &mut missing,
        &mut invalid,
    );
    if !missing.is_empty() {
        eprintln!(
            "error: {} without these answers (Access Server):",
            if terminal {
                "setup --yes cannot go on"
            } else {
                "no terminal to ask on, and setup cannot go on"
            }
        );
        for m in missing {
            eprintln!("  {m}");
        }
        return exit::USAGE;
    }
    if !invalid.is_empty() {
        for i in invalid {
            eprintln!("error: {i}");
        }
        return exit::USAGE;
    }
    if !args.yes && !args.dry_run {
        eprintln!(
            "error: no terminal to confirm on; run again with --yes to apply, or --dry-run to see the plan"
        );
        return exit::USAGE;
    }
    let settings = settings.expect("checked above");
    let Some(sacli) = access_server::SacliCommand::detect(host.root.dir()) else {
        eprintln!(
            "error: Access Server's sacli was not found under {}",
            host.root.dir().display()
        );
        return exit::USAGE;
    };
    let inspection = match access_server::inspect(&sacli) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let script = match access_server::RenderOptions::from_settings(&settings)
        .map(|o| access_server::RenderOptions {
            autopush: args.autopush,
            skip_duo_for_vpn: args.skip_duo_for_vpn,
            ..o
        })
        .and_then(|o| o.validate().map(|_| o))
    {
        Ok(o) => access_server::render_script(&o),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    println!(
        "Access Server {} at {}:",
        inspection.version.as_deref().unwrap_or("(version unknown)"),
        host.display_path(crate::system::detect::SACLI)
    );
    for l in access_server::install::describe_install(
        &inspection,
        &script,
        args.replace_post_auth_script,
    ) {
        println!("  {l}");
    }
    for w in inspection.warnings() {
        println!("warning: {w}");
    }
    if let Some(foreign) = inspection.foreign_script()
        && !args.replace_post_auth_script
    {
        // Described, never quoted: Duo's own script carries its secret key near the top.
        eprintln!(
            "error: Access Server already runs another post-auth script, and it runs only one. \
             It is\n  {}\nRun again with --replace-post-auth-script to replace it (uninstall puts it back).",
            access_server::ScriptSummary::of(foreign)
                .lines()
                .join("\n  ")
        );
        return exit::USAGE;
    }
    if args.dry_run {
        println!("(dry run: nothing changed; the credentials were not checked)");
        return exit::OK;
    }
    let mut effects = vec![Effect::InstallAccessServer(AccessServerScript {
        script,
        consent: args.replace_post_auth_script,
    })];
    if let Some(u) = &args.test_user {
        effects.push(Effect::TestPushWith {
            user: u.clone(),
            settings: Box::new(settings.clone()),
        });
    }
    super::apply(host, &settings, effects)
}
