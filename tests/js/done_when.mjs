// The "Done when" script with the AWS SDK for JavaScript v3: create a workload, page
// through every answer, update answers and check their risk, read the pillar risk counts, save
// and read a milestone, import a custom lens and publish a version of it, associate it, fetch
// the PDF report, export the lens, share the workload, delete it. Written as for the AWS tool:
// endpoint, region and keys come from the environment, and so do the names it uses
// (WORKLOAD_NAME, MILESTONE_NAME, LENS_FILE, LENS_VERSION, SHARE_WITH). It prints what it read
// as one JSON object.
import { readFile } from "node:fs/promises";

import {
  AssociateLensesCommand,
  CreateLensVersionCommand,
  CreateMilestoneCommand,
  CreateWorkloadCommand,
  CreateWorkloadShareCommand,
  DeleteWorkloadCommand,
  ExportLensCommand,
  GetAnswerCommand,
  GetLensReviewCommand,
  GetLensReviewReportCommand,
  GetMilestoneCommand,
  GetWorkloadCommand,
  ImportLensCommand,
  ListAnswersCommand,
  UpdateAnswerCommand,
  WellArchitectedClient,
} from "@aws-sdk/client-wellarchitected";

const LENS = "wellarchitected";
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const client = new WellArchitectedClient({});
const send = (Command, input) => client.send(new Command(input));

const { WorkloadId } = await send(CreateWorkloadCommand, {
  WorkloadName: env("WORKLOAD_NAME"),
  Description: "Takes orders from the shop to the warehouse.",
  Environment: "PRODUCTION",
  AwsRegions: ["eu-west-1"],
  Lenses: [LENS],
  ReviewOwner: "Sam Staff",
  PillarPriorities: ["reliability"],
});
const summary = { workloadId: WorkloadId, pages: 0, questionIds: [] };

let NextToken;
do {
  const page = await send(ListAnswersCommand, {
    WorkloadId,
    LensAlias: LENS,
    MaxResults: 10,
    NextToken,
  });
  summary.pages += 1;
  summary.questionIds.push(...page.AnswerSummaries.map((answer) => answer.QuestionId));
  NextToken = page.NextToken;
} while (NextToken);

// The first question with all its best practices (no risk), the second with only "None of
// these" (a high risk); in AWS lenses that choice's id ends in _no.
const picks = [
  ["all_practices", (ids) => ids.filter((id) => !id.endsWith("_no"))],
  ["none_of_these", (ids) => ids.filter((id) => id.endsWith("_no"))],
];
summary.updated = [];
summary.reread = [];
for (const [index, [name, pick]] of picks.entries()) {
  const QuestionId = summary.questionIds[index];
  const question = { WorkloadId, LensAlias: LENS, QuestionId };
  const { Answer: before } = await send(GetAnswerCommand, question);
  const { Answer: answer } = await send(UpdateAnswerCommand, {
    ...question,
    SelectedChoices: pick(before.Choices.map((choice) => choice.ChoiceId)),
    Notes: `Set by the done-when script (${name}).`,
  });
  summary.updated.push({
    questionId: answer.QuestionId,
    selectedChoices: answer.SelectedChoices,
    notes: answer.Notes,
    risk: answer.Risk,
  });
  summary.reread.push((await send(GetAnswerCommand, question)).Answer);
}

const { LensReview } = await send(GetLensReviewCommand, { WorkloadId, LensAlias: LENS });
summary.pillarRiskCounts = Object.fromEntries(
  LensReview.PillarReviewSummaries.map((pillar) => [pillar.PillarId, pillar.RiskCounts]),
);

const { MilestoneNumber } = await send(CreateMilestoneCommand, {
  WorkloadId,
  MilestoneName: env("MILESTONE_NAME"),
});
const { Milestone } = await send(GetMilestoneCommand, { WorkloadId, MilestoneNumber });
summary.milestone = Milestone;

const { LensArn } = await send(ImportLensCommand, {
  JSONString: await readFile(env("LENS_FILE"), "utf8"),
});
const { LensVersion } = await send(CreateLensVersionCommand, {
  LensAlias: LensArn,
  LensVersion: env("LENS_VERSION"),
  IsMajorVersion: true,
});
Object.assign(summary, { lensArn: LensArn, lensVersion: LensVersion });
await send(AssociateLensesCommand, { WorkloadId, LensAliases: [LensArn] });
summary.lenses = (await send(GetWorkloadCommand, { WorkloadId })).Workload.Lenses;

const { LensReviewReport } = await send(GetLensReviewReportCommand, {
  WorkloadId,
  LensAlias: LENS,
});
const pdf = Buffer.from(LensReviewReport.Base64String, "base64");
if (pdf.subarray(0, 5).toString() !== "%PDF-") throw new Error("the report is not a PDF");
summary.reportBase64 = LensReviewReport.Base64String;
summary.exportedLensJson = (
  await send(ExportLensCommand, { LensAlias: LensArn, LensVersion })
).LensJSON;
summary.shareId = (
  await send(CreateWorkloadShareCommand, {
    WorkloadId,
    SharedWith: env("SHARE_WITH"),
    PermissionType: "CONTRIBUTOR",
  })
).ShareId;

await send(DeleteWorkloadCommand, { WorkloadId });
try {
  await send(GetWorkloadCommand, { WorkloadId });
  summary.afterDelete = "found";
} catch (error) {
  summary.afterDelete = error.name;
}

// Dates (RecordedAt, UpdatedAt) print as ISO strings.
console.log(JSON.stringify(summary));
