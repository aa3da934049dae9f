// A review workshop as automation written for the AWS Well-Architected Tool runs it: create a
// workload, walk every answer of its lens review, answer one question, read the risk counts.
// Nothing here knows it talks to Archlens: the endpoint, region and keys come from the
// environment (AWS_ENDPOINT_URL_WELLARCHITECTED, AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY). It prints what it saw as one JSON object.
import {
  CreateWorkloadCommand,
  GetAnswerCommand,
  GetLensReviewCommand,
  GetWorkloadCommand,
  ListAnswersCommand,
  UpdateAnswerCommand,
  WellArchitectedClient,
} from "@aws-sdk/client-wellarchitected";

const LENS = "wellarchitected";
const client = new WellArchitectedClient({});

const { WorkloadId } = await client.send(
  new CreateWorkloadCommand({
    WorkloadName: process.env.WORKLOAD_NAME ?? `Workshop ${new Date().toISOString()}`,
    Description: "Reviewed by the workshop script.",
    Environment: "PREPRODUCTION",
    AwsRegions: ["eu-central-1", "eu-west-1"],
    Lenses: [LENS],
    ReviewOwner: "Platform team",
    PillarPriorities: ["security", "reliability"],
  }),
);

// No paginators exist for this service: loop on NextToken until the last page.
const answers = [];
let pages = 0;
let NextToken;
do {
  const page = await client.send(
    new ListAnswersCommand({
      WorkloadId,
      LensAlias: LENS,
      MaxResults: Number(process.env.PAGE_SIZE ?? 10),
      NextToken,
    }),
  );
  answers.push(...page.AnswerSummaries);
  pages += 1;
  NextToken = page.NextToken;
} while (NextToken);

// Answer the first question with every best practice it lists ("_no" is "None of these").
const { QuestionId } = answers[0];
const { Answer: question } = await client.send(
  new GetAnswerCommand({ WorkloadId, LensAlias: LENS, QuestionId }),
);
const practices = question.Choices.map((choice) => choice.ChoiceId).filter(
  (id) => !id.endsWith("_no"),
);
const { Answer: answered } = await client.send(
  new UpdateAnswerCommand({
    WorkloadId,
    LensAlias: LENS,
    QuestionId,
    SelectedChoices: practices,
    Notes: "All of these are in place (workshop script).",
  }),
);

const { LensReview } = await client.send(
  new GetLensReviewCommand({ WorkloadId, LensAlias: LENS }),
);
const { Workload } = await client.send(new GetWorkloadCommand({ WorkloadId }));

console.log(
  JSON.stringify({
    workloadId: WorkloadId,
    pages,
    questionIds: answers.map((answer) => answer.QuestionId),
    riskBefore: question.Risk,
    updated: {
      questionId: answered.QuestionId,
      pillarId: answered.PillarId,
      selectedChoices: answered.SelectedChoices,
      notes: answered.Notes,
      risk: answered.Risk,
    },
    pillarRiskCounts: Object.fromEntries(
      LensReview.PillarReviewSummaries.map((pillar) => [pillar.PillarId, pillar.RiskCounts]),
    ),
    lensReviewRiskCounts: LensReview.RiskCounts,
    workloadRiskCounts: Workload.RiskCounts,
    pillarPriorities: Workload.PillarPriorities,
  }),
);
