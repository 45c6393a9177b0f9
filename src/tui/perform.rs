//! Performing an [`Action`]: a state change of the [`App`] and at most one engine command.
//! No I/O here.

use super::action::Action;
use super::app::App;
use super::keys::Mode;
use super::state::LoopChoice;
use super::views::View;
use crate::event::{EngineCommand, Level};

impl App {
    /// Apply an action: a state change and at most one command for the engine. No I/O.
    pub fn perform(&mut self, action: Action) -> Option<EngineCommand> {
        if self.quitting {
            return None;
        }
        match action {
            Action::Run | Action::Share | Action::Sweep | Action::RttSweep => {
                let cmd = self.start(action);
                if cmd.is_some() {
                    self.view = match action {
                        Action::Share => View::Share,
                        Action::Sweep | Action::RttSweep => View::Sweep,
                        _ => View::Run,
                    };
                }
                cmd
            }
            Action::CycleLoop => {
                if self.run_active() {
                    self.note(Level::Warn, "a run is active; change the loop once it ends");
                    return None;
                }
                self.loop_choice = self.loop_choice.next();
                let msg = format!("r runs case study 1 {}", self.loop_choice.label());
                self.note(Level::Info, msg);
                None
            }
            Action::NextView => self.show(self.view.next()),
            Action::PrevView => self.show(self.view.prev()),
            Action::ResultsUp => {
                self.results.move_by(-1);
                None
            }
            Action::ResultsDown => {
                self.results.move_by(1);
                None
            }
            Action::OpenResult => self
                .results
                .current()
                .map(|e| EngineCommand::OpenResult { dir: e.dir.clone() }),
            Action::ResultsHome | Action::ResultsEnd => {
                self.results.to_end(action == Action::ResultsEnd);
                None
            }
            Action::SortResults => {
                self.results.sort = self.results.sort.next();
                self.results.reorder();
                None
            }
            Action::FilterResults => {
                self.results.filtering = true;
                None
            }
            Action::MarkResult => {
                let pair = match self.results.toggle_mark() {
                    Ok(pair) => pair?,
                    Err(why) => {
                        self.note(Level::Info, why);
                        return None;
                    }
                };
                self.note(
                    Level::Info,
                    format!(
                        "comparing {} (B) against {} (A)",
                        pair.1.display(),
                        pair.0.display()
                    ),
                );
                Some(EngineCommand::CompareResults {
                    a: pair.0,
                    b: pair.1,
                })
            }
            Action::Cancel => {
                if self.run_active() {
                    Some(EngineCommand::Cancel)
                } else {
                    self.note(Level::Info, "no run to cancel");
                    None
                }
            }
            Action::RedisUp | Action::RedisDown => {
                let profile = self.selected_name().to_string();
                if profile.is_empty() {
                    return None;
                }
                Some(if action == Action::RedisUp {
                    EngineCommand::RedisUp { profile }
                } else {
                    EngineCommand::RedisDown { profile }
                })
            }
            Action::ToggleGateway => {
                if self.gateway_active() {
                    return Some(EngineCommand::GatewayStop);
                }
                let item = self.selected_profile()?;
                if let Err(why) = &item.info {
                    let msg = format!("profile `{}` cannot be used: {why}", item.name);
                    self.note(Level::Error, msg);
                    return None;
                }
                Some(EngineCommand::GatewayStart {
                    profile: item.name.clone(),
                })
            }
            Action::Export => match &self.last_results {
                // The engine says where the zip went (or why not) once it is written.
                Some(dir) => {
                    let msg = format!("zipping {} (run.json, invocations.csv, …)", dir.display());
                    self.note(Level::Info, msg);
                    Some(EngineCommand::Export)
                }
                None => {
                    let msg = format!(
                        "nothing to zip yet: every run writes {}/<time>-<profile>/, and e zips the last",
                        self.results_root.display()
                    );
                    self.note(Level::Info, msg);
                    None
                }
            },
            Action::Clear => {
                self.log.clear();
                if !self.run_active() {
                    self.run = None;
                }
                None
            }
            Action::Quit => {
                if self.run_active() {
                    self.mode = Mode::ConfirmQuit;
                    None
                } else {
                    self.begin_quit()
                }
            }
            Action::ConfirmQuit => self.begin_quit(),
            Action::Dismiss => {
                self.mode = Mode::Normal;
                self.editor = None;
                self.report = None;
                None
            }
            Action::ReportUp
            | Action::ReportDown
            | Action::ReportPageUp
            | Action::ReportPageDown
            | Action::ReportHome
            | Action::ReportEnd => {
                if let Some(r) = &mut self.report {
                    let page = r.rows.get().saturating_sub(1).max(1) as isize;
                    match action {
                        Action::ReportUp => r.scroll(-1),
                        Action::ReportDown => r.scroll(1),
                        Action::ReportPageUp => r.scroll(-page),
                        Action::ReportPageDown => r.scroll(page),
                        Action::ReportHome => r.top = 0,
                        _ => r.top = r.max_top(),
                    }
                }
                None
            }
            Action::EditWorkload => {
                if self.run_active() {
                    self.note(
                        Level::Warn,
                        "a run is active; edit the workload once it ends",
                    );
                    return None;
                }
                let Some(now) = self
                    .selected_profile()
                    .and_then(|p| p.info.as_ref().ok())
                    .and_then(super::state::EditValues::of)
                else {
                    self.note(Level::Warn, "select a valid profile to edit its workload");
                    return None;
                };
                let file = self
                    .file_workload
                    .get(self.selected_name())
                    .copied()
                    .unwrap_or(now);
                self.editor = Some(super::state::WorkloadEditor {
                    field: 0,
                    now,
                    file,
                });
                self.mode = Mode::Edit;
                None
            }
            Action::EditPrev | Action::EditNext => {
                if let Some(e) = &mut self.editor {
                    let n = super::state::EDIT_FIELDS.len();
                    e.field = if action == Action::EditNext {
                        (e.field + 1) % n
                    } else {
                        (e.field + n - 1) % n
                    };
                }
                None
            }
            Action::EditMore | Action::EditLess => {
                if let Some(e) = &mut self.editor {
                    e.step(action == Action::EditMore);
                }
                None
            }
            Action::EditReset => {
                if let Some(e) = &mut self.editor {
                    e.now = e.file;
                }
                None
            }
            Action::EditApply => self.apply_edit(),
            Action::EditSave => self.save_edit(),
            Action::Acknowledge => {
                self.alert = None;
                None
            }
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Normal
                } else {
                    Mode::Help
                };
                None
            }
            Action::NextProfile => self.select(self.selected + 1),
            Action::PrevProfile => {
                let n = self.profiles.len().max(1);
                self.select((self.selected + n - 1) % n)
            }
            Action::SelectProfile(i) => {
                if usize::from(i) < self.profiles.len() {
                    self.select(usize::from(i))
                } else {
                    None
                }
            }
            Action::LogUp => self.scroll(1),
            Action::LogDown => self.scroll(-1),
            Action::LogPageUp => self.scroll(super::state::LOG_PAGE as isize),
            Action::LogPageDown => self.scroll(-(super::state::LOG_PAGE as isize)),
            Action::LogEnd => {
                self.log.to_newest();
                None
            }
            Action::LogHome => {
                self.log.to_oldest();
                None
            }
        }
    }

    /// Switch to `view`; the Results view asks for a fresh listing.
    fn show(&mut self, view: View) -> Option<EngineCommand> {
        self.view = view;
        if view == View::Results {
            self.results.loading = true;
            Some(EngineCommand::ListResults)
        } else {
            None
        }
    }

    fn scroll(&mut self, delta: isize) -> Option<EngineCommand> {
        self.log.scroll_by(delta);
        None
    }

    fn start(&mut self, action: Action) -> Option<EngineCommand> {
        if self.run_active() {
            self.note(Level::Warn, "a run is active; cancel it with `x` first");
            return None;
        }
        let item = self.selected_profile()?;
        if let Err(why) = &item.info {
            let msg = format!("profile `{}` cannot be used: {why}", item.name);
            self.note(Level::Error, msg);
            return None;
        }
        let profile = item.name.clone();
        Some(match action {
            Action::Share => EngineCommand::Share { profile },
            Action::Sweep => match self.loop_choice {
                LoopChoice::Open(_) => EngineCommand::RateSweep { profile },
                _ => EngineCommand::Sweep { profile },
            },
            Action::RttSweep => EngineCommand::RttSweep { profile },
            _ => match self.loop_choice {
                LoopChoice::Profile => EngineCommand::Run { profile },
                LoopChoice::Open(r) => EngineCommand::RunLoop {
                    profile,
                    rate: Some(r),
                },
                LoopChoice::Closed => EngineCommand::RunLoop {
                    profile,
                    rate: None,
                },
            },
        })
    }

    fn select(&mut self, index: usize) -> Option<EngineCommand> {
        if self.profiles.is_empty() {
            return None;
        }
        if self.run_active() {
            self.note(Level::Warn, "a run is active; switch profiles once it ends");
            return None;
        }
        let index = index % self.profiles.len();
        if index == self.selected {
            return None;
        }
        self.selected = index;
        self.redis = Default::default();
        Some(EngineCommand::RedisStatus {
            profile: self.selected_name().to_string(),
        })
    }

    /// Close the editor and have the engine write its values into the profile's file (the
    /// engine says in the log whether it did, and where; a file it cannot write is left as
    /// it was, and the values are still used for the next runs).
    fn save_edit(&mut self) -> Option<EngineCommand> {
        let e = self.editor.take()?;
        self.mode = Mode::Normal;
        let name = self.selected_name().to_string();
        let v = e.now;
        if let Some(Ok(i)) = self.profiles.get_mut(self.selected).map(|p| &mut p.info) {
            v.set_in(i);
        }
        // The file's values are now these, but for a platform it cannot hold (the engine
        // says so and uses it for the next runs only).
        let mut file = v;
        if !v.platform.is_local() || !e.file.platform.is_local() {
            file.platform = e.file.platform;
        }
        self.file_workload.insert(name.clone(), file);
        let edit = crate::model::workload::WorkloadEdit {
            invocations: Some(v.invocations),
            concurrency: Some(v.concurrency),
            records: Some(v.records),
            mode: Some(v.mode),
            persistence: Some(v.persistence),
            platform: (v.platform != e.file.platform).then_some(v.platform),
        };
        Some(EngineCommand::SaveWorkload {
            profile: name,
            edit,
        })
    }

    /// Close the editor, show its values as the profile's, and tell the engine to use them for
    /// the profile's next runs. The file is not written.
    fn apply_edit(&mut self) -> Option<EngineCommand> {
        let e = self.editor.take()?;
        self.mode = Mode::Normal;
        let name = self.selected_name().to_string();
        self.file_workload.entry(name.clone()).or_insert(e.file);
        let v = e.now;
        if let Some(Ok(i)) = self.profiles.get_mut(self.selected).map(|p| &mut p.info) {
            v.set_in(i);
        }
        let edit = e.edit();
        let msg = if edit == crate::model::workload::WorkloadEdit::default() {
            format!("the next runs of `{name}` use its file's workload again")
        } else {
            format!(
                "the next runs of `{name}`: {} invocations, concurrency {}, {} records, {}, persistence {}, platform {} (not saved to its file)",
                v.invocations,
                v.concurrency,
                v.records,
                v.mode.as_str(),
                v.persistence.label(),
                v.platform.as_str()
            )
        };
        self.note(Level::Info, msg);
        Some(EngineCommand::EditWorkload {
            profile: name,
            edit,
        })
    }

    fn begin_quit(&mut self) -> Option<EngineCommand> {
        self.mode = Mode::Normal;
        self.quitting = true;
        self.note(Level::Info, "quitting: stopping the engine and Redis");
        Some(EngineCommand::Shutdown)
    }
}
